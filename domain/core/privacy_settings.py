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
