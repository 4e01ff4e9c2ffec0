"""The role list, in one place, from least to most privileged."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"
    SUPER_ADMIN = "super_admin"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {role: i for i, role in enumerate(Role)}


def may_act_on(actor: Role, target: Role) -> bool:
    """Only a higher rank acts on an account. Super-admins, at the top, act on each other:
    someone must be able to manage them, and the last-super-admin rule keeps one."""
    return actor is Role.SUPER_ADMIN or target.rank < actor.rank


def may_grant(actor: Role, role: Role) -> bool:
    """Granting a role is acting on whoever holds it next: the same rule as ``may_act_on``."""
    return may_act_on(actor, role)


def may_impersonate(actor: Role, target: Role) -> bool:
    """Strictly a lower rank: unlike ``may_act_on``, super-admins do not impersonate each
    other, so nobody can borrow the powers of an equal (and whoever holds the top rank
    cannot be seen through by anyone)."""
    return target.rank < actor.rank


DEFAULT_ROLE = Role.STUDENT
