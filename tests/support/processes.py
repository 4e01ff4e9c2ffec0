"""Start the real API (uvicorn) and worker (dramatiq CLI) as subprocesses for a test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import services

ROOT = Path(__file__).resolve().parents[2]


def gatehouse_env(settings_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env.update(settings_env)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def create_account(
    env: dict[str, str], email: str, password: str, role: str = "super_admin"
) -> subprocess.CompletedProcess[str]:
    """``scripts/create_admin.py`` as an operator runs it, with the app's settings."""
    return subprocess.run(
        [
            sys.executable,
            "scripts/create_admin.py",
            "--email",
            email,
            "--first-name",
            "Ada",
            "--last-name",
            "Admin",
            "--role",
            role,
        ],
        cwd=ROOT,
        env={**env, "GATEHOUSE_ADMIN_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=60,
    )


def start_api(
    env: dict[str, str], log: Path, port: int | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """``app.py`` on 127.0.0.1: on ``port`` when the settings name it already (the
    issuer's URL), else on a free one."""
    port = port or services.free_port()
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    services.wait_for_port(port, process, timeout=60)
    return process, port


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "workers.main", "--processes", "1", "--threads", "2"],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        # Its own process group, so a test can kill the worker and its children at once.
        start_new_session=True,
    )
    handle.close()
    return process


def settings_env(settings: Any) -> dict[str, str]:
    """The environment that gives another process exactly this app's settings."""
    values: dict[str, str] = {}
    for field in type(settings).model_fields:
        value = getattr(settings, field)
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        values[f"GATEHOUSE_{field.upper()}"] = str(getattr(value, "value", value))
    return gatehouse_env(values)


@contextmanager
def running_worker(settings: Any, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``dramatiq workers.main`` process for these settings, stopped afterwards."""
    process = start_worker(settings_env(settings), log)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
