"""Start the real API (uvicorn) and worker (dramatiq CLI) as subprocesses for a test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import services

ROOT = Path(__file__).resolve().parents[2]


def gatehouse_env(settings_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env.update(settings_env)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_api(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = services.free_port()
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
    )
    handle.close()
    return process
