"""Run named dependency checks concurrently, each bounded by a timeout.

A check is an async callable that returns details or raises. A check that hangs
is cut at the deadline and reported as down, so the health route always answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from loguru import logger

CheckFn = Callable[[], Awaitable[Mapping[str, object] | None]]
Status = Literal["up", "down"]


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    name: str
    status: Status
    latency_ms: float
    details: Mapping[str, object] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class HealthReport:
    components: tuple[ComponentHealth, ...]

    @property
    def healthy(self) -> bool:
        return all(c.status == "up" for c in self.components)

    @property
    def failing(self) -> list[str]:
        return [c.name for c in self.components if c.status != "up"]


async def _run_check(name: str, check: CheckFn, deadline_seconds: float) -> ComponentHealth:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(deadline_seconds):
            details = await check()
    except TimeoutError:
        error = f"no answer within {deadline_seconds:g}s"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    else:
        return ComponentHealth(
            name=name,
            status="up",
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            details=dict(details or {}),
        )
    latency = round((time.perf_counter() - started) * 1000, 2)
    logger.bind(component=name).warning("health check failed: {}", error)
    return ComponentHealth(name=name, status="down", latency_ms=latency, error=error)


async def check_health(checks: Mapping[str, CheckFn], deadline_seconds: float) -> HealthReport:
    results = await asyncio.gather(
        *(_run_check(name, check, deadline_seconds) for name, check in checks.items())
    )
    return HealthReport(components=tuple(results))
