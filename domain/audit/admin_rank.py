"""The rank rule of an administrator's action on another account's credentials (its
passkeys, its linked identities): a higher rank only (``roles.may_act_on``), never one's
own account (the owner has their own way). A refusal is audited as a failed access
decision (``admin.action_denied``) before it is raised. domain/admin/users.py applies
the same rule with messages of its own for each admin action."""

from __future__ import annotations

from domain.audit.documents import AuditAction, AuditResult
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.errors import ForbiddenError
from domain.core.roles import Role, may_act_on


async def require_rank_over(
    audit: AuditService, actor: Actor, target_id: str, target_role: Role
) -> None:
    """Raises: ForbiddenError (audited) unless ``actor`` may act on the account."""
    if target_id == actor.user_id:
        rule = "self_action"
    elif actor.role is None or not may_act_on(actor.role, target_role):
        rule = "target_outranks_actor"
    else:
        return
    await audit.record(
        "admin.action_denied",
        AuditAction.SECURITY,
        actor=actor,
        result=AuditResult.FAILURE,
        target_id=target_id,
        details={"rule": rule},
    )
    raise ForbiddenError(
        "You cannot act on your own account here; another administrator can."
        if rule == "self_action"
        else "Only a higher rank can act on this account."
    )
