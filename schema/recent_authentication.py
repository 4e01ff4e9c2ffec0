"""How recent a sign-in each lasting-control mutation needs: one declaration per operation.

``@requires_recent_authentication(max_age_seconds=...)`` on a resolver, above its
``@maps_domain_errors``: before the resolver runs, the session's ``auth_time`` (its
sign-in or last ``reauthenticate``, domain/identity/reauthentication.py) must be newer
than that, else the answer is the ``ReauthenticationRequired`` member of the field's
union (``maxAgeSeconds``, and the ``methods`` the account can prove itself with) and
nothing changes. The declaration adds ReauthenticationRequiredError to the resolver's
declared errors, so building the schema fails if the union lacks the member. The
refusal is audited as ``security.access_denied`` with ``needs: recent_authentication``.

It is a decorator, not a permission class, because a permission class can only answer
with a top-level error, and a client should see this refusal as data it can act on.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from domain.core.errors import DomainError, UnauthenticatedError
from domain.identity.errors import ReauthenticationRequiredError
from schema.context import Info
from schema.error_mapping import DECLARED
from schema.permissions import audit_denial

P = ParamSpec("P")
R = TypeVar("R")
# The declared maximum age, read by the test that checks the reviewed list in SECURITY.md.
MAX_AGE_ATTRIBUTE = "recent_authentication_max_age"
# Decides from the arguments whether this call gives lasting control (None: every call does).
ArgumentsTest = Callable[[Mapping[str, Any]], bool]


def _info(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Info:
    found = kwargs.get("info")
    if found is None:
        found = next(a for a in args if hasattr(a, "context") and hasattr(a, "field_name"))
    info: Info = found
    return info


def requires_recent_authentication(
    max_age_seconds: int, *, when: ArgumentsTest | None = None
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """The session authenticated within ``max_age_seconds`` (capped by
    GATEHOUSE_REAUTHENTICATION_MAX_AGE_SECONDS); ``when`` limits it to the calls whose
    arguments give lasting control (``updateUser`` raising a role, say)."""
    if max_age_seconds <= 0:
        raise ValueError("max_age_seconds must be positive")

    def decorate(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        declared: tuple[type[DomainError], ...] | None = getattr(resolver, DECLARED, None)
        if declared is None:
            raise TypeError(
                f"{resolver.__qualname__}: put @requires_recent_authentication above "
                "@maps_domain_errors"
            )

        @functools.wraps(resolver)
        async def resolve(*args: P.args, **kwargs: P.kwargs) -> R:
            if when is None or when(kwargs):
                info = _info(args, kwargs)
                principal = info.context.principal
                if principal is None:
                    raise UnauthenticatedError  # IsAuthenticated, first in every guard, says so
                try:
                    await info.context.services.reauthentication.require_recent(
                        principal, max_age_seconds
                    )
                except ReauthenticationRequiredError:
                    await audit_denial(info, "recent_authentication")
                    raise
            return await resolver(*args, **kwargs)

        setattr(resolve, DECLARED, (*declared, ReauthenticationRequiredError))
        setattr(resolve, MAX_AGE_ATTRIBUTE, max_age_seconds)
        return resolve

    return decorate
