"""Version facts reported by /api/status and ``serverInfo``."""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

from domain.core.settings import ROOT_DIR

API_VERSION = "1"


def _read_version() -> str:
    try:
        return _dist_version("gatehouse")
    except PackageNotFoundError:
        import tomllib

        with (ROOT_DIR / "pyproject.toml").open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])


VERSION = _read_version()


@lru_cache(maxsize=1)
def git_revision() -> str | None:
    """The deployed commit: ``GATEHOUSE_GIT_REVISION`` if set (images), else git, else None."""
    if rev := os.environ.get("GATEHOUSE_GIT_REVISION"):
        return rev
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH is what we want
            cwd=ROOT_DIR,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
