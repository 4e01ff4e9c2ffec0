"""``GET /metrics``: Prometheus text. Restrict it to your monitoring network at the proxy."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from domain.core.metrics import REGISTRY
from resolvers.http.health import EXTRA_QUEUES
from resolvers.http.state import AppState
from workers.broker import queue_depths


async def metrics(request: Request) -> Response:
    state: AppState = request.state.gatehouse
    names = (state.settings.queue_name, *EXTRA_QUEUES)
    samples: list[tuple[dict[str, str], float]] = []
    up = 1.0
    try:
        depths = await asyncio.wait_for(
            asyncio.to_thread(lambda: {n: queue_depths(state.broker, n) for n in names}),
            state.settings.health_check_timeout_seconds,
        )
    except Exception:
        depths = {}
        up = 0.0
    for queue, counts in depths.items():
        for kind, value in counts.items():
            samples.append(({"queue": queue, "state": kind}, float(value)))
    body = REGISTRY.render(
        {"gatehouse_queue_messages": samples, "gatehouse_queue_broker_up": [({}, up)]}
    )
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4")
