"""Impersonation: an administrator sees what a user sees, briefly, openly and on the record.

``start`` opens a session of the user's with no refresh family (it cannot be renewed)
that ends at the latest ``impersonation_ttl_seconds`` later (never after the
administrator's own session, never longer than an access token lives); its one access
token carries the RFC 8693 ``act`` claim naming the administrator and their session,
so the request admission refuses it the moment that session ends (domain/sessions/
admission.py). The user is emailed and sees it in ``mySessions`` and
``mySecurityEvents``; every step is audited with both ids.

Ends are recorded once (a claim decides): at once for ``endImpersonation``; for every
other end (expiry, logout, the user revoking it, the administrator's session ending) by
``sweep``, which the maintenance round runs. When the administrator's session has
ended, the sweep also marks the impersonation session revoked, so ``mySessions`` stops
listing it; its token was already refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from beanie import PydanticObjectId

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.by_id import update_by_id
from domain.core.claims import claim_once
from domain.core.clock import Clock
from domain.core.errors import FieldError, NotFoundError, ValidationError
from domain.core.roles import may_impersonate
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity import repository as user_repository
from domain.identity.cache import CachedUsers
from domain.identity.documents import User, UserStatus
from domain.impersonation.documents import ImpersonationRecord
from domain.impersonation.errors import ImpersonationRefusedError, NotImpersonatingError
from domain.sessions.documents import Session, SessionImpersonation
from domain.sessions.issued import utc
from domain.sessions.principal import Principal
from domain.sessions.service import SessionService
from domain.tokens.access import AccessTokenService
from domain.tokens.delegation import Delegation

REASON_MIN, REASON_MAX = 5, 500
_SWEEP_BATCH = 500
# How long the once-only claim of an end is kept: far past any impersonation's end.
_END_CLAIM = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Impersonation:
    access_token: str
    expires_at: datetime
    session_id: str
    user: User
    read_only: bool


def _reason(raw: str) -> str:
    reason = " ".join(raw.split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise ValidationError(
            [
                FieldError(
                    "reason",
                    f"Say why, in {REASON_MIN} to {REASON_MAX} characters (the user is told).",
                    "LENGTH",
                )
            ]
        )
    return reason


def _as_administrator(actor: Actor, admin_id: str) -> Actor:
    """This slice's own events name the administrator as the actor, the user as target."""
    return replace(actor, user_id=admin_id, impersonator_id=None)


class ImpersonationService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        access_tokens: AccessTokenService,
        sessions: SessionService,
        users: CachedUsers,
        audit: AuditService,
        outbox: Outbox,
    ) -> None:
        self._clock = clock
        self._access = access_tokens
        self._sessions = sessions
        self._users = users
        self._audit = audit
        self._outbox = outbox
        # Never longer than an access token: its revocation record lives only that long.
        self._ttl = timedelta(
            seconds=min(settings.impersonation_ttl_seconds, settings.access_token_ttl_seconds)
        )

    async def start(
        self, admin: Principal, *, user_id: str, reason: str, read_only: bool, actor: Actor
    ) -> Impersonation:
        """Open an impersonation of ``user_id`` by the signed-in ``admin`` (the permission,
        second factor and recent sign-in were checked by the caller).

        Raises:
            ValidationError: the reason is missing or too long.
            NotFoundError: no such account.
            ImpersonationRefusedError: nested, oneself, an inactive account, an equal or
                higher rank, or the administrator's session has ended.
        """
        text = _reason(reason)
        target = await user_repository.get(user_id)
        if target is None:
            raise NotFoundError("No such user.")
        assert target.id is not None
        if admin.impersonation is not None:
            raise await self._refuse(actor, target, "nested", "End this impersonation first.")
        if str(target.id) == admin.user_id:
            raise await self._refuse(actor, target, "self", "You cannot impersonate yourself.")
        if target.status is not UserStatus.ACTIVE:
            raise await self._refuse(actor, target, "inactive", "This account is not active.")
        if not may_impersonate(admin.role, target.role):
            raise await self._refuse(
                actor, target, "rank", "Only a strictly higher rank can impersonate an account."
            )
        now = self._clock.now()
        parent = await Session.get(PydanticObjectId(admin.session_id))
        if parent is None or parent.revoked_at is not None or utc(parent.expires_at) <= now:
            raise await self._refuse(actor, target, "parent_ended", "Your session has ended.")
        admin_user = await self._users.get(admin.user_id)
        admin_name = admin_user.display_name if admin_user is not None else "An administrator"
        expires_at = min(now + self._ttl, utc(parent.expires_at))
        session = Session(
            user_id=target.id,
            device="Impersonation",
            # The administrator's network details stay in the audit trail, not in the
            # user's mySessions (as in mySecurityEvents: who they were, not where from).
            user_agent="",
            ip="",
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            mfa=parent.mfa,
            amr=list(parent.methods),
            # The administrator's proof, not a new one: recent-sign-in checks see its age.
            authenticated_at=parent.auth_time,
            impersonation=SessionImpersonation(
                admin_id=admin.user_id,
                admin_name=admin_name,
                parent_session_id=admin.session_id,
                reason=text,
                read_only=read_only,
            ),
        )
        await session.insert()
        assert session.id is not None
        await ImpersonationRecord(
            _id=session.id,
            admin_id=admin.user_id,
            admin_session_id=admin.session_id,
            user_id=str(target.id),
            reason=text,
            read_only=read_only,
            started_at=now,
            expires_at=expires_at,
        ).insert()
        token, claims = self._access.issue(
            str(target.id),
            str(session.id),
            target.role.value,
            amr=parent.methods,
            auth_time=parent.auth_time,
            act=Delegation(admin.user_id, admin.session_id, read_only),
            expires_at=expires_at,
        )
        await self._audit.record(
            "impersonation.started",
            AuditAction.SECURITY,
            actor=actor,
            target_id=str(target.id),
            details={
                "session": str(session.id),
                "reason": text,
                "read_only": read_only,
                "expires_at": claims.exp,
            },
        )
        await self._outbox.send(
            "impersonation_started",
            target.email,
            user_id=target.id,
            name=target.first_name,
            admin_name=admin_name,
            reason=text,
            minutes=max(1, round((claims.exp - now).total_seconds() / 60)),
            mode="look only" if read_only else "look and make changes",
        )
        return Impersonation(token, claims.exp, str(session.id), target, read_only)

    async def end(self, principal: Principal, actor: Actor) -> None:
        """End the calling impersonation session (``endImpersonation``).

        Raises:
            NotImpersonatingError: the caller's session is not an impersonation.
        """
        if principal.impersonation is None:
            raise NotImpersonatingError
        session = await Session.get(PydanticObjectId(principal.session_id))
        if session is not None and session.revoked_at is None:
            await self._sessions.revoke(session, reason="impersonation_ended", actor=actor)
        await self._record_end(PydanticObjectId(principal.session_id), "ended", actor)

    async def sweep(self) -> int:
        """Record the end of every impersonation that ended without ``endImpersonation``;
        the number recorded. Safe to run twice or on two workers at once."""
        now = self._clock.now()
        # A filter FerretDB scans, over this small collection only (open and ended
        # impersonations), on the maintenance round, never on a request.
        open_records = ImpersonationRecord.find({"ended_at": None}).limit(_SWEEP_BATCH)
        recorded = 0
        for record in await open_records.to_list():
            how = await self._how_it_ended(record, now)
            if how is not None and await self._record_end(record.id, how, Actor.system()):
                recorded += 1
        return recorded

    async def _how_it_ended(self, record: ImpersonationRecord, now: datetime) -> str | None:
        session = await Session.get(record.id)
        if session is None or session.revoked_at is not None:
            return (session.revoked_reason if session else None) or "ended"
        if utc(record.expires_at) <= now:
            return "expired"
        parent = await Session.get(PydanticObjectId(record.admin_session_id))
        if parent is None or parent.revoked_at is not None or utc(parent.expires_at) <= now:
            # Its token is refused already (admission); this stops mySessions listing it.
            await self._sessions.revoke(session, reason="parent_ended", actor=Actor.system())
            return "parent_ended"
        return None

    async def _record_end(self, record_id: PydanticObjectId, how: str, actor: Actor) -> bool:
        """Audit the end once, whoever sees it first (endImpersonation, two sweeps); the
        administrator is its actor, from wherever the end was seen (the sweep: nowhere)."""
        now = self._clock.now()
        if not await claim_once(
            f"impersonation-end:{record_id}", now=now, expires_at=now + _END_CLAIM
        ):
            return False
        record = await ImpersonationRecord.get(record_id)
        if record is None:
            return False
        await update_by_id(
            ImpersonationRecord.get_pymongo_collection(),
            record_id,
            {"$set": {"ended_at": now, "end_reason": how}},
        )
        await self._audit.record(
            "impersonation.ended",
            AuditAction.SECURITY,
            actor=_as_administrator(actor, record.admin_id),
            target_id=record.user_id,
            details={"session": str(record_id), "how": how},
        )
        return True

    async def _refuse(
        self, actor: Actor, target: User, rule: str, message: str
    ) -> ImpersonationRefusedError:
        await self._audit.record(
            "impersonation.refused",
            AuditAction.SECURITY,
            actor=actor,
            result=AuditResult.FAILURE,
            target_id=str(target.id),
            details={"rule": rule},
        )
        return ImpersonationRefusedError(rule, message)

    async def record_mutation(
        self, actor: Actor, principal: Principal, fields: list[str], refused: list[str]
    ) -> None:
        """Every mutation an impersonation session sends, run or refused (schema gate)."""
        delegation = principal.impersonation
        assert delegation is not None
        await self._audit.record(
            "impersonation.mutation",
            AuditAction.SECURITY,
            actor=_as_administrator(actor, delegation.actor_id),
            result=AuditResult.FAILURE if refused else AuditResult.SUCCESS,
            target_id=principal.user_id,
            details={
                "session": principal.session_id,
                "fields": ",".join(fields)[:300],
                "refused": ",".join(refused)[:300],
                "read_only": delegation.read_only,
            },
        )
