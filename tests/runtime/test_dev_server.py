"""``make run``'s supervisor: everything comes up healthy and Ctrl-C stops every child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import services

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_run_brings_everything_up_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    api_port, ferret_port, redis_port, dead_port = (services.free_port() for _ in range(4))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
    env.update(
        HOST="127.0.0.1",
        PORT=str(api_port),
        FERRETDB_PORT=str(ferret_port),
        REDIS_PORT=str(redis_port),
        GATEHOUSE_VAR_DIR=str(tmp_path / "var"),
        # Nothing answers here, so the supervisor starts its own Redis.
        GATEHOUSE_REDIS_URL=f"redis://127.0.0.1:{dead_port}/0",
    )
    env.pop("MONGODB_URL", None)
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "scripts/dev_server.py"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        services.wait_for_port(api_port, process, timeout=60)
        deadline = time.monotonic() + 30
        while True:
            health = httpx.get(f"http://127.0.0.1:{api_port}/api/health", timeout=5)
            if health.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert health.status_code == 200, health.text
        assert set(health.json()["checks"]) == {"mongo", "redis", "email", "queue"}
        # The supervisor prints its banner once it sees the API up: maybe just after
        # the first health answer.
        banner = f"http://127.0.0.1:{api_port}/graphql"
        deadline = time.monotonic() + 30
        output = (tmp_path / "run.log").read_text()
        while banner not in output and time.monotonic() < deadline:
            time.sleep(0.2)
            output = (tmp_path / "run.log").read_text()
        assert banner in output
        assert f"http://127.0.0.1:{api_port}/api/health" in output

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    for port in (api_port, ferret_port, redis_port):
        assert not services.port_open(port), f"something still listens on {port}"
    assert (tmp_path / "var" / "ferretdb").is_dir()
