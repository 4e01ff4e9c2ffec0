"""Permission classes: refusals travel as top-level errors with ``extensions.code``.

A denied field resolves nothing, so no data leaks with the error. A sign-in too old
for a lasting-control change is answered as data, not here: schema/recent_authentication.py.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from domain.audit.documents import AuditAction, AuditResult
from domain.identity.permissions import Permission, has_permission
from schema.actor import actor_of
from schema.context import Info


class IsAuthenticated(BasePermission):
    message = "Authentication is required: send a valid access token as `Authorization: Bearer`."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal is not None


SECOND_FACTOR_MESSAGE = (
    "Your role needs a session signed in with two-factor authentication: "
    "enable it (beginTotpEnrollment, confirmTotpEnrollment) and sign in again."
)


def _lacks_second_factor(info: Info) -> bool:
    """The caller's role requires a second factor their session was not signed in with
    (GATEHOUSE_MFA_REQUIRED_ROLES; ASVS 4.3.1). ``me`` and the two-factor mutations need
    only IsAuthenticated, so such a user can still enroll."""
    principal = info.context.principal
    return (
        principal is not None
        and not principal.mfa
        and principal.role.value in info.context.settings.mfa_required_roles
    )


async def audit_denial(info: Info, needs: str) -> None:
    """Record a signed-in caller refused a field (ASVS 7.2.2: failed access decisions are logged).

    Anonymous callers are not recorded: their refusal is routine and needs no actor. One
    event per field per request, so a hundred aliases of one field cost one write.
    """
    principal = info.context.principal
    if principal is None:
        return
    seen: set[str] = getattr(info.context.request.state, "access_denied_fields", set())
    field = info.field_name
    if field in seen:
        return
    seen.add(field)
    info.context.request.state.access_denied_fields = seen
    await info.context.services.audit.record(
        "security.access_denied",
        AuditAction.SECURITY,
        actor=actor_of(info),
        result=AuditResult.FAILURE,
        target_id=None,
        details={"field": field, "needs": needs, "role": principal.role.value},
    )


# Each class refuses with one fixed message and code: Strawberry shares an instance
# between concurrent requests, so nothing about a refusal may be written on it.


def HasPermission(permission: Permission) -> type[BasePermission]:  # noqa: N802 - a class
    """The caller's role holds ``permission``; after IsAuthenticated (anonymous callers
    hear UNAUTHENTICATED there)."""

    class _HasPermission(BasePermission):
        message = f"This needs the `{permission.value}` permission."
        error_extensions = {"code": "FORBIDDEN"}
        required = permission  # read by the attack suite to find every guarded field

        async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            principal = info.context.principal
            allowed = principal is not None and has_permission(principal.role, permission)
            if not allowed:
                await audit_denial(info, permission.value)
            return allowed

    _HasPermission.__name__ = f"HasPermission_{permission.value.replace(':', '_')}"
    return _HasPermission


def SecondFactorFor(needs: str) -> type[BasePermission]:  # noqa: N802 - reads like a class
    """Refuses with MFA_REQUIRED a caller whose role needs a second factor this session
    was not signed in with; after the permission check, whose name ``needs`` repeats in
    the audit event (``users:read+mfa``)."""

    class _SecondFactorFor(BasePermission):
        message = SECOND_FACTOR_MESSAGE
        error_extensions = {"code": "MFA_REQUIRED"}
        second_factor = True  # read by the tests that check every guard list

        async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            if not _lacks_second_factor(info):
                return True
            await audit_denial(info, f"{needs}+mfa")
            return False

    _SecondFactorFor.__name__ = f"SecondFactorFor_{needs.replace(':', '_')}"
    return _SecondFactorFor


def permission_guard(permission: Permission) -> list[type[BasePermission]]:
    """Signed in (UNAUTHENTICATED), holding ``permission`` (FORBIDDEN), and with the
    second factor the role needs (MFA_REQUIRED), checked in that order."""
    return [IsAuthenticated, HasPermission(permission), SecondFactorFor(permission.value)]


def SessionWithSecondFactor(needs: str) -> type[BasePermission]:  # noqa: N802 - a class
    """Refuses with MFA_REQUIRED a session not signed in with a second factor, whatever
    the role's settings say: for the powers that must never rest on a password alone
    (``impersonateUser``)."""

    class _SessionWithSecondFactor(BasePermission):
        message = "This needs a session signed in with two-factor authentication."
        error_extensions = {"code": "MFA_REQUIRED"}
        second_factor = True

        async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            principal = info.context.principal
            if principal is not None and principal.mfa:
                return True
            await audit_denial(info, f"{needs}+mfa")
            return False

    _SessionWithSecondFactor.__name__ = f"SessionWithSecondFactor_{needs.replace(':', '_')}"
    return _SessionWithSecondFactor
