"""Every Beanie document the application stores; the lifespan initialises these."""

from __future__ import annotations

from beanie import Document

DOCUMENT_MODELS: list[type[Document]] = []
