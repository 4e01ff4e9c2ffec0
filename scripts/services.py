"""Start the real services (FerretDB, SecantusDB, Redis) as child processes on chosen ports.

Used by ``scripts/dev_server.py`` (``make run``) and by the test suite's session
fixtures (``make test``). Nothing here is imported by the application.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ferretdb_indexes import add_id_indexes, prepare_collections

ROOT = Path(__file__).resolve().parents[1]
FERRETDB_BIN = Path(
    os.environ.get("FERRETDB_BIN") or ROOT / ".cache" / "ferretdb" / "bin" / "ferretdb"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Service:
    name: str
    port: int
    data_dir: Path
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_path or self.data_dir / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            self.args,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            start_new_session=True,
        )
        log.close()
        wait_for_port(self.port, self.process)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


def ferretdb(data_dir: Path, port: int | None = None) -> Service:
    if not FERRETDB_BIN.exists():
        raise FileNotFoundError(f"{FERRETDB_BIN} is missing: run scripts/bootstrap.sh")
    port = port or free_port()
    sqlite_dir = data_dir / "sqlite"
    sqlite_dir.mkdir(parents=True, exist_ok=True)
    # Tables from an earlier run: their _id lookups use an index (see the module).
    add_id_indexes(sqlite_dir)
    return Service(
        name="ferretdb",
        port=port,
        data_dir=data_dir,
        args=[
            str(FERRETDB_BIN),
            "--handler=sqlite",
            # WAL with synchronous=NORMAL: a commit is not fsynced until the checkpoint, so
            # a crash of FerretDB (or of anything but the machine) loses no acknowledged
            # write, and writes stop queueing behind one fsync each (twice the inserts/s
            # here). MongoDB's default journal commit (every 100 ms) makes the same trade.
            f"--sqlite-url=file:{sqlite_dir}/?_pragma=synchronous(normal)",
            f"--listen-addr=127.0.0.1:{port}",
            f"--state-dir={data_dir}",
            "--telemetry=disable",
            "--debug-addr=-",
            "--log-level=warn",
        ],
        env={"DO_NOT_TRACK": "1"},
    )


def prepare_gatehouse_collections(mongodb_url: str, database: str, data_dir: Path) -> list[str]:
    """Every collection Gatehouse stores, created on a running FerretDB (whose data is in
    ``data_dir``) and indexed on ``_id`` (scripts/ferretdb_indexes.py)."""
    sys.path.insert(0, str(ROOT))
    from domain.documents import DOCUMENT_MODELS

    names = [str(getattr(model.Settings, "name", model.__name__)) for model in DOCUMENT_MODELS]
    return prepare_collections(mongodb_url, database, names, data_dir / "sqlite")


def secantusdb(data_dir: Path, port: int | None = None) -> Service:
    """SecantusDB (a MongoDB-wire server on WiredTiger, a dev dependency): the second
    server the suite runs on, so the plain-MongoDB paths are tested too."""
    port = port or free_port()
    return Service(
        name="secantusdb",
        port=port,
        data_dir=data_dir,
        args=[
            sys.executable,
            "-c",
            "import sys; from secantus.cli import main; sys.exit(main())",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--storage-path={data_dir / 'wiredtiger'}",
            "--log-level=WARNING",
            # A standalone server, as a plain mongod: the driver then needs no replica-set
            # discovery to reach it.
            "--standalone",
        ],
    )


def redis_server(data_dir: Path, port: int | None = None, *, persist: bool = False) -> Service:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = port or free_port()
    args = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--save",
        "60 1" if persist else "",
        "--appendonly",
        "yes" if persist else "no",
        "--loglevel",
        "warning",
    ]
    return Service(name="redis", port=port, data_dir=data_dir, args=args)
