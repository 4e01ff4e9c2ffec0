"""Permission classes: one refusal each, in a fixed order, never rewritten per request.

IsAuthenticated refuses UNAUTHENTICATED, HasPermission FORBIDDEN and SecondFactorFor
MFA_REQUIRED, each with a static message and code: Strawberry shares a permission
instance between concurrent requests, so one that rewrote its own message could answer a
request with another's refusal. (A sign-in too old for a change is answered as the
ReauthenticationRequired union member instead: schema/recent_authentication.py.)
(tests/api/test_mfa_required_roles.py and tests/security/test_access_control.py call
every refusal through the API.)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from strawberry.permission import BasePermission

import schema.permissions
from domain.core.settings import Settings
from schema.permissions import IsAuthenticated
from schema.schema import build_schema


def guard_lists(settings: Settings) -> dict[str, list[BasePermission]]:
    built = build_schema(settings)
    found: dict[str, list[BasePermission]] = {}
    for root in (built.query, built.mutation, built.subscription):
        for field in root.__strawberry_definition__.fields:  # type: ignore[union-attr]
            guards = [p for ext in field.extensions for p in getattr(ext, "permissions", [])]
            if guards:
                found[f"{root.__name__}.{field.python_name}"] = guards
    return found


def test_every_guard_list_signs_in_first_then_permission_then_second_factor(
    make_settings: Callable[..., Settings],
) -> None:
    lists = guard_lists(make_settings())
    assert len(lists) > 30
    for name, guards in lists.items():
        assert isinstance(guards[0], IsAuthenticated), name
        kinds = [type(g).__name__.split("_")[0] for g in guards]
        if any(hasattr(g, "required") for g in guards):
            assert kinds[1:3] == ["HasPermission", "SecondFactorFor"], (name, kinds)
        assert kinds.count("SecondFactorFor") == kinds.count("HasPermission"), (name, kinds)


def test_refusals_are_fixed_per_class(make_settings: Callable[..., Settings]) -> None:
    codes = {
        g.error_extensions["code"] if g.error_extensions else None
        for guards in guard_lists(make_settings()).values()
        for g in guards
    }
    assert codes == {"UNAUTHENTICATED", "FORBIDDEN", "MFA_REQUIRED"}
    source = inspect.getsource(schema.permissions)
    assert "self.message" not in source
    assert "self.error_extensions" not in source
