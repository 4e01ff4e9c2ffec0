"""A private Gatehouse deployment on this machine: FerretDB, Redis, API processes, workers.

The fault tests kill and restart FerretDB and Redis, so they cannot use the test
session's shared services: this starts its own (with ``scripts/services.py``, the
same launcher as the session fixtures) on free ports, plus a real SMTP sink and a
real webhook receiver, and the API / worker / scheduler processes the way
``tests/support/processes.py`` starts them. Also used by the soak command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import services

from domain.core.settings import Settings
from tests.support.processes import ROOT, settings_env, start_api, start_worker
from tests.support.smtp import MailInbox
from tests.webhooks.receiver import Receiver

ADMIN_EMAIL = "reliability.admin@example.com"
ADMIN_PASSWORD = "granite lantern orchard 5521"

# Fast enough for CI on 2 cores, bounded everywhere a dependency can stall.
BASE_SETTINGS: dict[str, Any] = {
    "environment": "test",
    "log_level": "INFO",
    "email_backend": "smtp",
    "email_send_rate": "100000/60",
    "email_retry_base_ms": 200,
    "email_retry_max_ms": 2_000,
    "email_stuck_after_seconds": 5,
    "webhook_allow_private_targets": True,
    "webhook_retry_base_ms": 200,
    "webhook_retry_max_ms": 2_000,
    "webhook_stale_after_seconds": 5,
    "webhook_timeout_seconds": 5.0,
    "maintenance_interval_seconds": 5,
    "job_heartbeat_timeout_ms": 3_000,
    "job_maintenance_chance": 100_000,
    "mongodb_server_selection_timeout_ms": 2_000,
    "mongodb_connect_timeout_ms": 2_000,
    "mongodb_socket_timeout_ms": 5_000,
    "redis_socket_timeout_seconds": 2.0,
    "redis_connect_timeout_seconds": 2.0,
    "health_check_timeout_seconds": 1.0,
    "shutdown_grace_seconds": 10,
    # One test client machine plays every user: per-IP limits would be the bottleneck.
    "rate_limits_enabled": False,
    "lockout_throttle_base_seconds": 0,
    # Cheap hashes: this measures the service around them (bench/ measures hashing).
    "argon2_memory_kib": 1024,
    "argon2_time_cost": 1,
}

WEBHOOK_EVENTS = ("user.registered", "user.verified", "session.revoked")

# The worst a request may take while a dependency is gone: Mongo server selection,
# or a Redis connect plus one retry; a request touches them in sequence at most a few times.
OUTAGE_BOUND_SECONDS = 2 * 2.0 + 2 * 2.0 + 3.0


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Api:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    root: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    inbox: MailInbox = field(init=False)
    receiver: Receiver = field(init=False)
    ferretdb: services.Service = field(init=False)
    redis: services.Service = field(init=False)
    settings: Settings = field(init=False)
    apis: list[Api] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    scheduler: subprocess.Popen[bytes] | None = None
    _logs: int = 0

    def start(self, *, apis: int = 2, workers: int = 1, scheduler: bool = True) -> Cluster:
        self.root.mkdir(parents=True, exist_ok=True)
        self.inbox = MailInbox().start()
        self.receiver = Receiver().start()
        self.ferretdb = services.ferretdb(self.root / "ferretdb").start()
        # Append-only file: Redis holds the job queue and the revocation records, and a
        # restart must keep them (README, "Scaling out").
        self.redis = services.redis_server(self.root / "redis", persist=True).start()
        self.settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            mongodb_url=f"mongodb://127.0.0.1:{self.ferretdb.port}",
            mongodb_database="gatehouse_reliability",
            redis_url=f"redis://127.0.0.1:{self.redis.port}/0",
            var_dir=self.root / "var",
            smtp_port=self.inbox.port,
            **{**BASE_SETTINGS, **self.overrides},
        )
        self.create_account()
        for _ in range(apis):
            self.start_api()
        self.subscribe_receiver()
        for _ in range(workers):
            self.start_worker()
        if scheduler:
            self.scheduler = self._spawn([sys.executable, "-m", "workers.scheduler"], "scheduler")
        return self

    def env(self) -> dict[str, str]:
        return settings_env(self.settings)

    def _log(self, name: str) -> Path:
        self._logs += 1
        return self.root / f"{self._logs:02d}-{name}.log"

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        with self._log(name).open("ab") as log:
            return subprocess.Popen(
                args, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )

    def create_account(
        self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD, role: str = "super_admin"
    ) -> None:
        """A verified account, made by scripts/create_admin.py as an operator would."""
        created = subprocess.run(
            [
                *(sys.executable, "scripts/create_admin.py", "--email", email),
                *("--first-name", "Reliability", "--last-name", "Account", "--role", role),
            ],
            cwd=ROOT,
            env={**self.env(), "GATEHOUSE_ADMIN_PASSWORD": password},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stdout + created.stderr

    def admin_token(self) -> str:
        login = self.graphql(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) {"
            " ... on AuthPayload { accessToken } } }",
            {"e": ADMIN_EMAIL, "p": ADMIN_PASSWORD},
        )
        return str(login["login"]["accessToken"])

    def graphql(
        self, query: str, variables: dict[str, Any], token: str | None = None, api: int = 0
    ) -> dict[str, Any]:
        """``data`` of one request to API process number ``api``; GraphQL errors fail."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.post(
            f"{self.apis[api].url}/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
            timeout=30,
        )
        body = response.json()
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    def subscribe_receiver(self) -> None:
        """A webhook endpoint on the real local receiver for the workload's events."""
        created = self.graphql(
            "mutation($url: String!, $events: [String!]!) {"
            " createWebhookEndpoint(url: $url, events: $events) { __typename } }",
            {"url": self.receiver.url(), "events": list(WEBHOOK_EVENTS)},
            self.admin_token(),
        )
        assert created["createWebhookEndpoint"]["__typename"] == "WebhookSecretIssued"

    # --- API processes ---------------------------------------------------------

    def start_api(self) -> Api:
        log = self._log("api")
        process, port = start_api(self.env(), log)
        api = Api(process, port, log)
        self.apis.append(api)
        return api

    def stop_api(self, api: Api, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        api.process.send_signal(sig)
        try:
            code = api.process.wait(timeout)
        except subprocess.TimeoutExpired:
            api.process.kill()
            code = api.process.wait()
        self.apis.remove(api)
        return code

    def api_rss_kib(self) -> dict[int, int]:
        return {api.port: rss_kib(api.process.pid) for api in self.apis}

    def wait_ready(self, timeout: float = 60) -> None:
        """Until every API's /readyz says MongoDB and Redis answer."""
        deadline = time.monotonic() + timeout
        pending = list(self.apis)
        while pending:
            api = pending[0]
            try:
                if httpx.get(f"{api.url}/readyz", timeout=3).status_code == 200:
                    pending.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"API on {api.port} not ready"
            time.sleep(0.1)

    # --- workers ---------------------------------------------------------------

    def start_worker(self) -> subprocess.Popen[bytes]:
        worker = start_worker(self.env(), self._log("worker"))
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and its forked children: no chance to ack or requeue."""
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        self.workers.remove(worker)

    # --- dependencies ----------------------------------------------------------

    def restart_redis(self, down_seconds: float) -> None:
        self.redis.stop()  # SIGTERM: Redis flushes its append-only file
        time.sleep(down_seconds)
        self.redis = services.redis_server(
            self.redis.data_dir, self.redis.port, persist=True
        ).start()

    def kill_ferretdb(self) -> None:
        self.ferretdb.kill()

    def start_ferretdb(self) -> None:
        self.ferretdb = services.ferretdb(self.ferretdb.data_dir, self.ferretdb.port).start()

    # --- teardown ----------------------------------------------------------------

    def stop(self) -> None:
        if not hasattr(self, "settings"):  # start failed before the processes
            for name in ("redis", "ferretdb", "receiver", "inbox"):
                if hasattr(self, name):
                    getattr(self, name).stop()
            return
        for api in list(self.apis):
            self.stop_api(api)
        for worker in list(self.workers):
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        self.workers.clear()
        if self.scheduler is not None:
            self.scheduler.send_signal(signal.SIGTERM)
            try:
                self.scheduler.wait(30)
            except subprocess.TimeoutExpired:
                self.scheduler.kill()
        self.redis.stop()
        self.ferretdb.stop()
        self.receiver.stop()
        self.inbox.stop()
