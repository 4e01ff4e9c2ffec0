"""The four faults, each as an async step run while the workload keeps going."""

from __future__ import annotations

import asyncio
import signal
import time

from tests.reliability.cluster import Cluster
from tests.reliability.workload import Balancer

DOWN_SECONDS = 3.0


async def restart_redis(cluster: Cluster, balancer: Balancer) -> None:
    await asyncio.to_thread(cluster.restart_redis, DOWN_SECONDS)


async def restart_ferretdb(cluster: Cluster, balancer: Balancer) -> None:
    await asyncio.to_thread(cluster.kill_ferretdb)
    await asyncio.sleep(DOWN_SECONDS)
    await asyncio.to_thread(cluster.start_ferretdb)


async def kill_worker(cluster: Cluster, balancer: Balancer) -> None:
    (worker,) = cluster.workers
    await asyncio.to_thread(cluster.kill_worker, worker)
    await asyncio.sleep(DOWN_SECONDS)
    await asyncio.to_thread(cluster.start_worker)


class ApiReplacement:
    """SIGTERM one API process the way an orchestrator does (out of rotation, then the
    signal, in-flight requests still running) and start a new one in its place."""

    def __init__(self) -> None:
        self.stopped_port = 0
        self.signalled_at = 0.0
        self.exit_code: int | None = None

    async def __call__(self, cluster: Cluster, balancer: Balancer) -> None:
        api = cluster.apis[0]
        self.stopped_port = api.port
        balancer.drain(api.url)
        self.signalled_at = time.monotonic()
        self.exit_code = await asyncio.to_thread(cluster.stop_api, api, signal.SIGTERM)
        replacement = await asyncio.to_thread(cluster.start_api)
        balancer.add(replacement.url)
