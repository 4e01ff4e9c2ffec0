"""The settings of data export and account erasure (domain/privacy/).

A base of ``Settings`` (domain/core/settings.py), kept in its own module so the
settings module stays within its size; the variables read as any other
(``GATEHOUSE_EXPORT_DIR``, ...).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class PrivacySettings(BaseModel):
    # Where export archives wait for their download (default: <var_dir>/exports).
    export_dir: Path | None = None
    # How long an emailed download link (and its file) lives.
    export_link_ttl_seconds: int = Field(default=48 * 3600, ge=600, le=7 * 24 * 3600)
    # Where the download link points (the API's own REST route, below public_url).
    export_download_path: str = "/api/privacy/export"
    # How long a deleted account can still be restored, and how long afterwards its
    # address stays reserved (the tombstone).
    account_deletion_grace_days: int = Field(default=14, ge=1, le=365)
    # The frontend page the cancel link opens (it calls cancelAccountDeletion).
    cancel_deletion_path: str = "/cancel-deletion"
