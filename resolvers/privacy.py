"""Data export (domain/privacy/): thin calls into the slice."""

from __future__ import annotations

import strawberry

from domain.core.errors import NotFoundError
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.privacy.types import DataExportRequested
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
