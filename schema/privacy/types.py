from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(description="The export is being built; a download link will be emailed.")
class DataExportRequested:
    message: str


@strawberry.type(
    description="The account is deleted and signed out everywhere; it is erased at "
    "`eraseAfter` unless the emailed cancel link is used first."
)
class AccountDeletionScheduled:
    erase_after: datetime
    message: str


@strawberry.type(description="The deletion was cancelled: the account signs in as before.")
class AccountDeletionCancelled:
    message: str
