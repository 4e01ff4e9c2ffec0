"""Child processes of the benchmark: start with a log file, stop by pid, read RSS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import services  # noqa: E402  (scripts/services.py: FerretDB, Redis, ports)

free_port = services.free_port
wait_for_port = services.wait_for_port


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    port: int | None = None

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is not None:
            return
        # Each child leads its own process group: uvicorn's workers stop with it.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def spawn(
    name: str,
    args: list[str],
    *,
    env: dict[str, str],
    log: Path,
    cwd: Path = ROOT,
    port: int | None = None,
    timeout: float = 120,
) -> Child:
    handle = log.open("ab")
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    handle.close()
    child = Child(name, process, port)
    if port is not None:
        try:
            wait_for_port(port, process, timeout=timeout)
        except (RuntimeError, TimeoutError) as exc:
            child.stop()
            raise RuntimeError(f"{name} did not start ({exc}); see {log}") from exc
    return child


def base_env() -> dict[str, str]:
    """The environment without any Gatehouse or peer settings from the caller's shell."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GATEHOUSE_", "BENCH_", "VIRTUAL_ENV", "DJANGO_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # After the command name (which may hold spaces): utime and stime are fields 14 and 15.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(server_pid: int) -> list[int]:
    """uvicorn's worker processes: the children of the supervisor that run Python.

    With --workers, uvicorn's main process supervises spawned workers; multiprocessing
    may also start a small resource tracker, which is left out (it serves no requests).
    """
    pids = []
    for pid in children_of(server_pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            pids.append(pid)
    return pids


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")
