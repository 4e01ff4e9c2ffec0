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


DEFAULT_ROLE = Role.STUDENT
