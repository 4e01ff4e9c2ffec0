"""Permission classes: refusals travel as top-level errors with ``extensions.code``.

A denied field resolves nothing, so no data leaks with the error.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from domain.audit.documents import AuditAction, AuditResult
from domain.identity.permissions import Permission, has_permission
from domain.identity.roles import Role
from schema.context import Info


class IsAuthenticated(BasePermission):
    message = "Authentication is required: send a valid access token as `Authorization: Bearer`."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal is not None


def _denied(info: Info) -> dict[str, str]:
    code = "UNAUTHENTICATED" if info.context.principal is None else "FORBIDDEN"
    return {"code": code}


async def _audit_denial(info: Info, needs: str) -> None:
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
    await info.context.state.audit.record(
        "security.access_denied",
        AuditAction.SECURITY,
        result=AuditResult.FAILURE,
        actor_id=str(principal.user_id),
        target_id=None,
        details={"field": field, "needs": needs, "role": principal.role.value},
    )


def HasRole(minimum: Role) -> type[BasePermission]:  # noqa: N802 - reads like a class
    """At least this role (roles are ordered)."""

    class _HasRole(BasePermission):
        message = f"This needs the {minimum.value} role or higher."

        async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            principal = info.context.principal
            allowed = principal is not None and principal.role.rank >= minimum.rank
            if not allowed:
                await _audit_denial(info, f"role:{minimum.value}")
            # Set last, after the await: the instance is shared by concurrent requests,
            # and nothing may run between this and the refusal that reads it.
            self.error_extensions = _denied(info)
            return allowed

    _HasRole.__name__ = f"HasRole_{minimum.value}"
    return _HasRole


def HasPermission(permission: Permission) -> type[BasePermission]:  # noqa: N802
    class _HasPermission(BasePermission):
        message = f"This needs the `{permission.value}` permission."
        required = permission  # read by the attack suite to find every guarded field

        async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            principal = info.context.principal
            allowed = principal is not None and has_permission(principal.role, permission)
            if not allowed:
                await _audit_denial(info, permission.value)
            # Set last, after the await: the instance is shared by concurrent requests,
            # and nothing may run between this and the refusal that reads it.
            self.error_extensions = _denied(info)
            return allowed

    _HasPermission.__name__ = f"HasPermission_{permission.value.replace(':', '_')}"
    return _HasPermission
