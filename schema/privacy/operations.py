from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from domain.identity.permissions import Permission
from resolvers import privacy
from schema.permissions import IsAuthenticated, permission_guard
from schema.privacy.types import (
    AccountDeletionCancelled,
    AccountDeletionScheduled,
    DataExportRequested,
)
from schema.user_errors import InvalidToken, LastSuperAdmin, NotFound, ReauthenticationRequired

RequestDataExportResult = Annotated[
    DataExportRequested | ReauthenticationRequired, strawberry.union("RequestDataExportResult")
]
ExportUserDataResult = Annotated[
    DataExportRequested | NotFound, strawberry.union("ExportUserDataResult")
]
DeleteMyAccountResult = Annotated[
    AccountDeletionScheduled | LastSuperAdmin | ReauthenticationRequired,
    strawberry.union("DeleteMyAccountResult"),
]
CancelAccountDeletionResult = Annotated[
    AccountDeletionCancelled | InvalidToken, strawberry.union("CancelAccountDeletionResult")
]

_AUTH: list[type[BasePermission]] = [IsAuthenticated]
_WRITE: list[type[BasePermission]] = permission_guard(Permission.USERS_WRITE)


@strawberry.type
class PrivacyMutation:
    request_data_export = strawberry.mutation(
        resolver=privacy.request_data_export,
        permission_classes=_AUTH,
        graphql_type=RequestDataExportResult,
        description="Email the caller a single-use link to a JSON archive of their data. "
        "Needs a recent sign-in.",
    )
    export_user_data = strawberry.mutation(
        resolver=privacy.export_user_data,
        permission_classes=_WRITE,
        graphql_type=ExportUserDataResult,
        description="On a user's request: email them (not the administrator) a link to "
        "their data. Audited.",
    )
    delete_my_account = strawberry.mutation(
        resolver=privacy.delete_my_account,
        permission_classes=_AUTH,
        graphql_type=DeleteMyAccountResult,
        description="Delete the caller's account: signed out everywhere at once, erased "
        "after the grace period unless cancelled by the emailed link. Needs a recent sign-in.",
    )
    cancel_account_deletion = strawberry.mutation(
        resolver=privacy.cancel_account_deletion,
        graphql_type=CancelAccountDeletionResult,
        description="Restore an account deleted by its owner (the emailed link's token).",
    )
