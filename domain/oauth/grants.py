"""The grants a person gives relying parties, as the rest of Gatehouse sees them: which
grants each (person, client) pair holds, so revoking an authorized app revokes every
one of them (``OAuthStore.revoke_grant``: refresh tokens, access tokens at
introspection and userinfo, codes not yet exchanged); when the client last used them;
and their audit events, ``oauth.grant_issued`` (a code) and ``oauth.grant_exchanged``
(the first tokens of a grant), each with ``client_id`` (per-client sign-in counts,
domain/analytics/clients.py).
"""

from __future__ import annotations

from typing import Any

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.oauth.store import OAuthStore, Subject

GRANT_ISSUED = "oauth.grant_issued"
GRANT_EXCHANGED = "oauth.grant_exchanged"


class GrantLedger:
    def __init__(self, clock: Clock, store: OAuthStore, audit: AuditService) -> None:
        self._clock = clock
        self._store = store
        self._audit = audit

    async def issued(self, subject: Subject, client_id: str, scope: str) -> None:
        """A code was handed to the client for this person."""
        await self._store.remember_grant(subject.user_id, client_id, subject.grant_id, used_at=None)
        await self._record(GRANT_ISSUED, AuditAction.CREATE, subject, client_id, scope)

    async def tokens_issued(self, request: Any, token: dict[str, Any]) -> None:
        """authlib's ``save_token``: a person's tokens (a client's own have no user)."""
        if request.user is None:
            return
        await self.used(
            request.user,
            request.client.client.id,
            str(token.get("scope", "")),
            first=request.refresh_token is None,
            grant_type=str(request.payload.grant_type or ""),
        )

    async def used(
        self, subject: Subject, client_id: str, scope: str, *, first: bool, grant_type: str
    ) -> None:
        """Tokens were issued (``first``: the code or device code exchanged, not a refresh)."""
        now = int(self._clock.now().timestamp())
        await self._store.remember_grant(subject.user_id, client_id, subject.grant_id, used_at=now)
        if first:
            await self._record(
                GRANT_EXCHANGED, AuditAction.LOGIN, subject, client_id, scope, grant_type
            )

    async def _record(
        self,
        event: str,
        action: AuditAction,
        subject: Subject,
        client_id: str,
        scope: str,
        grant_type: str | None = None,
    ) -> None:
        details = {"client_id": client_id, "grant_id": subject.grant_id, "scope": scope}
        if grant_type:
            details["grant_type"] = grant_type
        await self._audit.record(
            event,
            action,
            actor=Actor.system().as_user(subject.user_id),
            target_id=subject.user_id,
            details=details,
        )

    async def revoke_all(self, user_id: str, client_id: str) -> int:
        """Every grant the person gave the client stops now; returns how many."""
        grants = await self._store.take_grants(user_id, client_id)
        for grant_id in grants:
            await self._store.revoke_grant(grant_id)
        return len(grants)

    async def last_used(self, user_id: str, client_ids: list[str]) -> dict[str, int]:
        return await self._store.last_used(user_id, client_ids)
