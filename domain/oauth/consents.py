"""A person's authorized apps: the consents they gave relying parties, listed with when
each was granted and last used, and revocable. Revoking deletes the consent (the app
asks again next time) and ends every grant the person gave that client (domain/oauth/
grants.py): its refresh tokens stop at once, its access tokens turn inactive at
introspection and userinfo. Audited as ``oauth.consent_revoked``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.errors import NotFoundError
from domain.oauth.clients import OAuthClients
from domain.oauth.documents import OAuthConsent
from domain.oauth.grants import GrantLedger

CONSENT_REVOKED = "oauth.consent_revoked"
MAX_LISTED = 200  # consents of one person (one per client)


@dataclass(frozen=True, slots=True)
class AuthorizedApp:
    client_id: str
    client_name: str
    scopes: list[str]
    granted_at: datetime
    last_used_at: datetime | None


class AuthorizedApps:
    def __init__(self, clients: OAuthClients, ledger: GrantLedger, audit: AuditService) -> None:
        self._clients = clients
        self._ledger = ledger
        self._audit = audit

    async def list(self, user_id: str) -> list[AuthorizedApp]:
        consents = (
            await OAuthConsent.find({"user_id": user_id})
            .sort("-granted_at", "_id")
            .limit(MAX_LISTED)
            .to_list()
        )
        used = await self._ledger.last_used(user_id, [c.client_id for c in consents])
        apps = []
        for consent in consents:
            client = await self._clients.get(consent.client_id)
            if client is None:
                continue
            last = used.get(consent.client_id)
            apps.append(
                AuthorizedApp(
                    client.id,
                    client.name,
                    list(consent.scopes),
                    consent.granted_at,
                    datetime.fromtimestamp(last, UTC) if last is not None else None,
                )
            )
        return apps

    async def revoke(self, user_id: str, client_id: str, actor: Actor) -> None:
        """Raises: NotFoundError (no consent of this person for that client)."""
        if not isinstance(client_id, str) or len(client_id) > 200:
            raise NotFoundError("No such authorized app.")
        consent = await OAuthConsent.find_one({"_id": OAuthConsent.key(user_id, client_id)})
        if consent is None:
            raise NotFoundError("No such authorized app.")
        await consent.delete()
        ended = await self._ledger.revoke_all(user_id, client_id)
        await self._audit.record(
            CONSENT_REVOKED,
            AuditAction.REVOKE,
            actor=actor,
            target_id=user_id,
            before={"client_id": client_id, "scopes": ",".join(consent.scopes)},
            details={"client_id": client_id, "grants_revoked": ended},
        )
