"""Worker entry point: ``dramatiq workers.main``."""

from __future__ import annotations

from domain.core.logging import configure_logging
from domain.core.settings import get_settings
from workers.broker import setup_broker

settings = get_settings()
configure_logging(settings)
broker = setup_broker(settings)
