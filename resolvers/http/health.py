"""Operator routes: ``/api/health``, ``/api/status``, ``/livez``, ``/readyz``."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.core.version import API_VERSION, VERSION, git_revision
from domain.health.checks import all_checks, core_checks
from domain.health.service import CheckFn, HealthReport, check_health
from resolvers.http.state import AppState
from workers.broker import queue_depths

# Queues of their own, so email and webhooks cannot starve each other.
EXTRA_QUEUES = ("email", "webhooks")


def _state(request: Request) -> AppState:
    state: AppState = request.state.gatehouse
    return state


def _checks(state: AppState, *, full: bool) -> dict[str, CheckFn]:
    if not full:
        return core_checks(state.database, state.redis)
    queue = state.settings.queue_name

    def probe() -> dict[str, object]:
        queues = {name: queue_depths(state.broker, name) for name in (queue, *EXTRA_QUEUES)}
        return {"queue": queue, **queues[queue], "queues": queues}

    return all_checks(state.database, state.redis, state.email, probe)


def _report_body(report: HealthReport, *, expose_errors: bool) -> dict[str, object]:
    components: dict[str, object] = {}
    for c in report.components:
        item: dict[str, object] = {"status": c.status, "latencyMs": c.latency_ms}
        if c.details:
            item["details"] = dict(c.details)
        if c.error:
            item["error"] = c.error if expose_errors else c.error.split(":", 1)[0]
        components[c.name] = item
    body: dict[str, object] = {
        "status": "ok" if report.healthy else "unavailable",
        "checks": components,
    }
    if not report.healthy:
        body["failing"] = report.failing
    return body


async def health(request: Request) -> Response:
    state = _state(request)
    report = await check_health(
        _checks(state, full=True), state.settings.health_check_timeout_seconds
    )
    body = _report_body(report, expose_errors=not state.settings.is_production)
    return JSONResponse(body, status_code=200 if report.healthy else 503)


async def readyz(request: Request) -> Response:
    state = _state(request)
    report = await check_health(
        _checks(state, full=False), state.settings.health_check_timeout_seconds
    )
    body = _report_body(report, expose_errors=False)
    return JSONResponse(body, status_code=200 if report.healthy else 503)


async def livez(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def status(request: Request) -> Response:
    state = _state(request)
    return JSONResponse(
        {
            "service": state.settings.service_name,
            "version": VERSION,
            "apiVersion": API_VERSION,
            "gitRevision": git_revision(),
            "environment": state.settings.environment.value,
            "uptimeSeconds": round(time.monotonic() - state.started_at, 3),
            "schemaHash": state.schema_hash,
        }
    )
