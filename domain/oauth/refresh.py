"""OAuth refresh tokens rotate with the first-party sessions' reuse and grace rules
(domain/sessions/rotation.py, README "Refresh semantics").

Each use of a refresh token returns its successor; which presentation rotates is decided
once in Redis (``RefreshLedger.take``, one script), so two racing presentations
cannot both mint a new token. The immediately previous token presented again within
``refresh_token_grace_seconds`` of its rotation, by the same client from the same client
context (user-agent family and IP network), before the successor was used and at most
five times (``grace_allows``, the sessions' rule itself), gets the same successor and a
fresh access token. Anything else is reuse: the whole grant ends, the owner is emailed
once per grant, and ``oauth.refresh_reuse`` is audited (sent to webhooks as
``security.refresh_reuse``).

Not reuse, a plain refusal (``invalid_grant``) that changes nothing:
- another client's token (the ledger leaves it untouched): a leaked token presented as
  some other client must not end its owner's grant;
- a token of a grant that had ended otherwise (the person revoked the app, signed out,
  the session expired, the account was disabled; the first refusal took the token, a
  client's retry must not look like theft), as first-party sessions answer a refresh of
  an ended session. A grant that reuse ended keeps answering reuse: each replay is
  audited again (the owner is still emailed once).

A successor is derived from the token it replaces under the grant's secret, itself
derived from the server key and the grant id and never stored, so a grace answer gives
the same successor again without any token being stored in the clear, and reading Redis
with an old token in hand does not tell the later ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from beanie import PydanticObjectId
from loguru import logger

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.claims import claim_once
from domain.core.clock import Clock
from domain.oauth.documents import OAuthClient
from domain.oauth.refresh_ledger import ForeignRefresh, RefreshLedger, RotatedRefresh
from domain.oauth.store import OAuthStore, RefreshRecord, Subject
from domain.sessions.device import client_context
from domain.sessions.rotation import Rotation, grace_allows

REFRESH_REUSE = "oauth.refresh_reuse"
REUSE = "refresh_reuse"  # the grant revocation's reason when reuse ended it

# The owner's user id and the client's name: tell them the app was signed out.
AppReuseAlert = Callable[[PydanticObjectId, str], Awaitable[None]]
ClientLoader = Callable[[str], Awaitable[OAuthClient | None]]
# The subject again while its Gatehouse session and account are live, else None.
SubjectCheck = Callable[[Subject], Awaitable[Subject | None]]


@dataclass(frozen=True, slots=True)
class Presented:
    """A refresh token accepted for a refresh: its record, the successor to answer with,
    and whether this is a grace answer (the successor was already given out)."""

    record: RefreshRecord
    successor: str
    grace: bool

    # authlib's TokenMixin, as far as the refresh grant reads it
    def check_client(self, client: object) -> bool:
        return self.record.check_client(client)

    def get_scope(self) -> str:
        return self.record.scope

    @property
    def subject(self) -> Subject:
        return self.record.subject


def successor_of(secret: bytes, token: str) -> str:
    """The token that replaces ``token`` (HMAC-SHA256 under the grant's secret)."""
    digest = hmac.new(secret, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class RefreshRotations:
    def __init__(
        self,
        clock: Clock,
        store: OAuthStore,
        ledger: RefreshLedger,
        audit: AuditService,
        *,
        chain_key: bytes,
        grace_seconds: int,
        load_client: ClientLoader,
        on_reuse: AppReuseAlert | None,
    ) -> None:
        self._clock = clock
        self._store = store
        self._ledger = ledger
        self._audit = audit
        self._chain_key = chain_key
        self._grace = grace_seconds
        self._load_client = load_client
        self._on_reuse = on_reuse

    async def take(
        self, token: str, client_id: str, actor: Actor, live: SubjectCheck
    ) -> Presented | None:
        """The token as this refresh by ``client_id`` may use it, or None: unknown,
        expired, another client's, or reuse (the grant is then ended; unless it had ended
        otherwise, which ``live`` tells for its session and account)."""
        now = self._clock.now()
        context = f"{client_id}|{client_context(actor.user_agent, actor.ip)}"
        taken = await self._ledger.take(
            token, client_id, Rotation(now, context).encode(), int(now.timestamp())
        )
        if taken is None:
            return None
        if isinstance(taken, ForeignRefresh):
            # Not audited: first-party sessions do not audit refused presentations either.
            logger.bind(client_id=client_id).warning(
                "oauth refresh token presented by a client it was not issued to; refused"
            )
            return None
        if isinstance(taken, RotatedRefresh):
            presented = await self._grace_answer(token, taken, context, now)
            if presented is None:
                if not await self._ended_otherwise(taken, live):
                    await self._reuse(taken, actor)
                return None
        else:
            record = taken.record
            presented = Presented(record, successor_of(self._secret(record), token), grace=False)
        if presented.record.expires_at <= int(now.timestamp()):
            return None
        return presented

    def _secret(self, record: RefreshRecord) -> bytes:
        """The grant's secret: derived, so Redis never holds it; a record written before
        that keeps the one it holds for its own successor."""
        if record.chain:
            return record.chain.encode()
        return hmac.new(self._chain_key, record.grant_id.encode(), hashlib.sha256).digest()

    async def _grace_answer(
        self, token: str, taken: RotatedRefresh, context: str, now: datetime
    ) -> Presented | None:
        record = taken.record
        if record is None or taken.rotation is None:
            return None
        successor = successor_of(self._secret(record), token)
        allowed = grace_allows(
            grace_seconds=self._grace,
            rotation=Rotation.decode(taken.rotation),
            context=context,
            now=now,
            successor_used=await self._ledger.used(successor),
            retry=taken.retry,
        )
        return Presented(record, successor, grace=True) if allowed else None

    async def _ended_otherwise(self, taken: RotatedRefresh, live: SubjectCheck) -> bool:
        """Whether the grant ended other than by reuse: revoked (not by a replay) or its
        Gatehouse session or account over. Checked after the ledger's decision, so a
        revocation that lands before this presentation is always seen: deciding it before
        taking the token would leave the window between the two."""
        reason = await self._store.grant_revocation(taken.grant_id)
        if reason is not None:
            return reason != REUSE
        if not taken.sid or not taken.user_id:  # a marker from before markers named them
            return False
        return await live(Subject(taken.user_id, taken.sid, 0, [])) is None

    async def save(
        self,
        token: str,
        scope: str,
        client: OAuthClient,
        subject: Subject,
        previous: Presented | None,
    ) -> None:
        """Keep a refresh token just issued: a grant's first (the client's lifetime from
        now) or a successor (the grant's absolute expiry)."""
        now = int(self._clock.now().timestamp())
        if previous is None:
            expires_at = now + client.refresh_token_ttl_seconds
        else:
            expires_at = previous.record.expires_at
        record = RefreshRecord(client.id, scope, subject, subject.grant_id, expires_at)
        await self._ledger.save_unless_used(token, record, now)

    async def _reuse(self, taken: RotatedRefresh, actor: Actor) -> None:
        logger.bind(grant_id=taken.grant_id, client_id=taken.client_id).warning(
            "oauth refresh token reuse detected; revoking the grant"
        )
        await self._store.revoke_grant(taken.grant_id, reason=REUSE)
        if not taken.user_id:  # a marker from before markers named the owner
            return
        await self._audit.record(
            REFRESH_REUSE,
            AuditAction.SECURITY,
            actor=actor,
            result=AuditResult.FAILURE,
            actor_type="anonymous",
            target_id=taken.user_id,
            details={"client_id": taken.client_id, "grant_id": taken.grant_id},
        )
        # One alert per grant, however many replays arrive.
        now = self._clock.now()
        first = await claim_once(
            f"oauth-reuse-alert:{taken.grant_id}", now=now, expires_at=now + timedelta(days=30)
        )
        if first and self._on_reuse is not None:
            client = await self._load_client(taken.client_id)
            name = client.name if client is not None else taken.client_id
            await self._on_reuse(PydanticObjectId(taken.user_id), name)
