from __future__ import annotations

import strawberry


@strawberry.type(description="The export is being built; a download link will be emailed.")
class DataExportRequested:
    message: str
