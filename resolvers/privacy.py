"""Data export and account deletion (domain/privacy/): thin calls into the slice."""

from __future__ import annotations

import strawberry

from domain.core.errors import NotFoundError
from domain.identity.action_tokens import InvalidActionTokenError
from domain.privacy.errors import LastSuperAdminError
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.privacy.types import (
    AccountDeletionCancelled,
    AccountDeletionScheduled,
    DataExportRequested,
)
from schema.recent_authentication import requires_recent_authentication

_EXPORT_MESSAGE = "Your data export is being prepared; a download link will be emailed."


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors()
async def request_data_export(info: Info) -> DataExportRequested:
    principal = info.context.require_principal()
    await info.context.services.privacy.exports.request(principal.user_id, actor_of(info))
    return DataExportRequested(message=_EXPORT_MESSAGE)


@maps_domain_errors(NotFoundError)
async def export_user_data(info: Info, id: strawberry.ID) -> DataExportRequested:
    info.context.require_principal()
    await info.context.services.privacy.exports.request(str(id), actor_of(info))
    return DataExportRequested(
        message="The export is being prepared; the link goes to the user's own address."
    )


@requires_recent_authentication(max_age_seconds=300)
@maps_domain_errors(LastSuperAdminError)
async def delete_my_account(info: Info) -> AccountDeletionScheduled:
    principal = info.context.require_principal()
    erase_after = await info.context.services.privacy.deletions.delete_own(
        principal.user_id, actor_of(info)
    )
    return AccountDeletionScheduled(
        erase_after=erase_after,
        message="Your account was deleted. Use the emailed link to cancel before it is erased.",
    )


@maps_domain_errors(InvalidActionTokenError)
async def cancel_account_deletion(info: Info, token: str) -> AccountDeletionCancelled:
    await info.context.services.privacy.deletions.cancel(token, actor_of(info))
    return AccountDeletionCancelled(message="Your account is restored. Sign in as before.")
