"""``make run``: FerretDB, Redis, the API and one Dramatiq worker, stopped together on Ctrl-C.

FerretDB keeps its SQLite files under ``var/ferretdb``; Redis is reused when one
already answers at ``GATEHOUSE_REDIS_URL`` and started under ``var/redis``
otherwise. ``GATEHOUSE_MONGODB_URL`` set in the environment skips FerretDB.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

import services

ROOT = services.ROOT
VAR = Path(os.environ.get("GATEHOUSE_VAR_DIR", ROOT / "var"))


def _port_from_env(name: str, default: int) -> int:
    wanted = int(os.environ.get(name, default))
    return wanted if not services.port_open(wanted) else services.free_port()


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    children: list[tuple[str, subprocess.Popen[bytes] | services.Service]] = []
    env = dict(os.environ)
    env.setdefault("GATEHOUSE_ENVIRONMENT", "development")
    env.setdefault("GATEHOUSE_VAR_DIR", str(VAR))

    if "GATEHOUSE_MONGODB_URL" not in env:
        ferret = services.ferretdb(VAR / "ferretdb", _port_from_env("FERRETDB_PORT", 27117))
        ferret.log_path = VAR / "ferretdb.log"
        ferret.start()
        children.append(("ferretdb", ferret))
        env["GATEHOUSE_MONGODB_URL"] = f"mongodb://127.0.0.1:{ferret.port}"
        # Every collection exists, with its _id index, before the API first writes to it.
        services.prepare_gatehouse_collections(
            env["GATEHOUSE_MONGODB_URL"],
            env.get("GATEHOUSE_MONGODB_DATABASE", "gatehouse"),
            VAR / "ferretdb",
        )

    redis_url = env.get("GATEHOUSE_REDIS_URL", "redis://127.0.0.1:6379/0")
    parsed = urlparse(redis_url)
    if not services.port_open(parsed.port or 6379, parsed.hostname or "127.0.0.1"):
        redis = services.redis_server(
            VAR / "redis", _port_from_env("REDIS_PORT", 6390), persist=True
        )
        redis.log_path = VAR / "redis.log"
        redis.start()
        children.append(("redis", redis))
        redis_url = f"redis://127.0.0.1:{redis.port}/0"
    env["GATEHOUSE_REDIS_URL"] = redis_url

    python = sys.executable
    # Each child in its own session: Ctrl-C reaches only this supervisor, which then
    # stops each child once, in order (a second signal makes dramatiq kill its jobs).
    api = subprocess.Popen(
        [python, "app.py"],
        cwd=ROOT,
        env={**env, "HOST": host, "PORT": str(port)},
        start_new_session=True,
    )
    children.append(("api", api))
    worker = subprocess.Popen(
        [python, "-m", "dramatiq", "workers.main", "--processes", "1", "--threads", "2"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    children.append(("worker", worker))
    scheduler = subprocess.Popen(
        [python, "-m", "workers.scheduler"], cwd=ROOT, env=env, start_new_session=True
    )
    children.append(("scheduler", scheduler))

    try:
        services.wait_for_port(port, api, timeout=60)
    except (RuntimeError, TimeoutError) as exc:
        print(f"the API did not start: {exc}", file=sys.stderr)
        _stop_all(children)
        return 1

    base = f"http://{host}:{port}"
    print(
        f"\nGatehouse is running\n  GraphiQL  {base}/graphql\n  health    {base}/api/health\n"
        f"  status    {base}/api/status\n  mail      {VAR / 'mail'}\n"
        f"  MongoDB   {env['GATEHOUSE_MONGODB_URL']}\n  Redis     {redis_url}\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )

    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    exit_code = 0
    while not stopping:
        for name, child in children:
            process = child.process if isinstance(child, services.Service) else child
            if process is not None and process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping", file=sys.stderr)
                stopping = True
                exit_code = 1
        time.sleep(0.2)
    _stop_all(children)
    return exit_code


def _stop_all(children: list[tuple[str, subprocess.Popen[bytes] | services.Service]]) -> None:
    # The API and the worker first (they finish in-flight work), then their stores.
    for name, child in reversed(children):
        print(f"stopping {name}", flush=True)
        if isinstance(child, services.Service):
            child.stop()
            continue
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


if __name__ == "__main__":
    raise SystemExit(main())
