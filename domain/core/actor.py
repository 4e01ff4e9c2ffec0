"""Who is acting and from where: handed to every service method that audits.

Passed explicitly rather than read from the request's context, so a reader (or a tool)
can follow from the resolver, the worker or the scheduler who an audit event names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.core.roles import Role


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str | None
    role: Role | None
    ip: str
    user_agent: str
    request_id: str | None
    # The administrator really acting when ``user_id`` is being impersonated
    # (domain/impersonation/): every audit event then names both.
    impersonator_id: str | None = None

    @classmethod
    def system(cls, request_id: str | None = None) -> Actor:
        """Jobs and the scheduler: nobody signed in, no client. A job keeps the id of the
        request that queued it, so its events trace back to that request."""
        return cls(user_id=None, role=None, ip="", user_agent="", request_id=request_id)

    @classmethod
    def anonymous(cls, ip: str, user_agent: str, request_id: str | None) -> Actor:
        """A caller not signed in (login, registration, a link from an email)."""
        return cls(user_id=None, role=None, ip=ip, user_agent=user_agent, request_id=request_id)

    def as_user(self, user_id: str) -> Actor:
        """The same client, now known as ``user_id`` (a sign-in that just succeeded, the
        holder of a link token)."""
        return replace(self, user_id=user_id)
