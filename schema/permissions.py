"""Permission classes: refusals travel as top-level errors with ``extensions.code``.

A denied field resolves nothing, so no data leaks with the error.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

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


def HasRole(minimum: Role) -> type[BasePermission]:  # noqa: N802 - reads like a class
    """At least this role (roles are ordered)."""

    class _HasRole(BasePermission):
        message = f"This needs the {minimum.value} role or higher."

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            self.error_extensions = _denied(info)
            principal = info.context.principal
            return principal is not None and principal.role.rank >= minimum.rank

    _HasRole.__name__ = f"HasRole_{minimum.value}"
    return _HasRole


def HasPermission(permission: Permission) -> type[BasePermission]:  # noqa: N802
    class _HasPermission(BasePermission):
        message = f"This needs the `{permission.value}` permission."

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            self.error_extensions = _denied(info)
            principal = info.context.principal
            return principal is not None and has_permission(principal.role, permission)

    _HasPermission.__name__ = f"HasPermission_{permission.value.replace(':', '_')}"
    return _HasPermission
