"""Start-up: the lists the checker uses, and the checker, from the settings.

An explicitly configured filter that is missing or damaged stops start-up with a clear
error (a deployment that believes it checks against its list must not run without it);
the default location may be empty, and then the built-in list serves alone, with a
warning saying so.
"""

from __future__ import annotations

from pathlib import Path

from loguru import logger

from domain.breached.bloom_list import BreachedList, BreachedListError, load
from domain.breached.builtin import builtin_list
from domain.breached.checker import BreachedPasswords
from domain.breached.range_check import RangeCheck, range_http_client
from domain.core.settings import Settings

DEFAULT_FILTER_NAME = "breached-passwords.bloom"


def default_filter_path(settings: Settings) -> Path:
    return settings.var_dir / DEFAULT_FILTER_NAME


def load_lists(settings: Settings) -> list[BreachedList]:
    """Raises: BreachedListError when the configured filter cannot be loaded."""
    lists: list[BreachedList] = []
    configured = settings.breached_password_list_path
    path = configured or default_filter_path(settings)
    if configured is not None or path.is_file():
        loaded = load(path)
        logger.bind(path=str(path), entries=loaded.entries, bytes=loaded.size_bytes).info(
            "breached-password filter loaded"
        )
        lists.append(loaded)
    else:
        logger.bind(path=str(path)).warning(
            "no breached-password filter (build one with scripts/build_breached_filter.py); "
            "checking against the built-in list only"
        )
    if settings.breached_password_builtin:
        lists.append(builtin_list())
    return lists


def build_breached_passwords(settings: Settings) -> BreachedPasswords:
    """Raises: BreachedListError (see ``load_lists``)."""
    range_check = None
    if settings.breached_password_range_url:
        timeout = settings.breached_password_range_timeout_seconds
        range_check = RangeCheck(
            settings.breached_password_range_url, range_http_client(timeout), timeout
        )
    return BreachedPasswords(
        load_lists(settings),
        range_check=range_check,
        fail_closed=settings.breached_password_range_fail_closed,
    )


__all__ = ["BreachedListError", "build_breached_passwords", "default_filter_path", "load_lists"]
