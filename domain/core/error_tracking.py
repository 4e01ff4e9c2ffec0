"""The hook where unexpected errors reach an error tracker.

Nothing is sent anywhere unless ``GATEHOUSE_SENTRY_DSN`` is set and the optional
``sentry-sdk`` package is installed.
"""

from __future__ import annotations

import importlib
from typing import Any

from loguru import logger

from domain.core.settings import Settings

_sdk: Any = None


def init_error_tracking(settings: Settings) -> bool:
    """Initialise the tracker if configured; return whether one is active."""
    global _sdk
    if settings.sentry_dsn is None:
        _sdk = None
        return False
    try:
        sdk = importlib.import_module("sentry_sdk")
    except ImportError:
        logger.warning("GATEHOUSE_SENTRY_DSN is set but sentry-sdk is not installed")
        return False
    sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment.value,
        send_default_pii=False,
    )
    _sdk = sdk
    return True


def report_exception(exc: BaseException) -> None:
    if _sdk is not None:
        _sdk.capture_exception(exc)
