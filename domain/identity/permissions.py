"""Named permissions and which roles hold them: the one place RBAC is decided."""

from __future__ import annotations

from enum import StrEnum

from domain.core.roles import Role


class Permission(StrEnum):
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    AUDIT_READ = "audit:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    APIKEYS_MANAGE = "apikeys:manage"
    OAUTH_CLIENTS_MANAGE = "oauthclients:manage"
    ANALYTICS_READ = "analytics:read"
    SCHEMA_INTROSPECT = "schema:introspect"
    # Acting as a lower-ranked user for a short read-only (by default) session
    # (domain/impersonation/). Super-admins only: an impersonation token is the user's
    # token to every service that trusts Gatehouse's JWKS, so it stays with the fewest
    # people; admins keep ``users:read`` (a user's sessions and events) for support.
    USERS_IMPERSONATE = "users:impersonate"


_ADMIN = frozenset(
    {
        Permission.USERS_READ,
        Permission.USERS_WRITE,
        Permission.AUDIT_READ,
        Permission.APIKEYS_MANAGE,
        Permission.OAUTH_CLIENTS_MANAGE,
        Permission.ANALYTICS_READ,
        Permission.SCHEMA_INTROSPECT,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STUDENT: frozenset(),
    Role.INSTRUCTOR: frozenset({Permission.USERS_READ}),
    Role.ADMIN: _ADMIN,
    Role.SUPER_ADMIN: _ADMIN | {Permission.WEBHOOKS_MANAGE, Permission.USERS_IMPERSONATE},
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
