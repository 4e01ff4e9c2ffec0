"""A small scheduler process: enqueue the periodic actors every interval.

    python -m workers.scheduler

Several schedulers may run (one per host, say); a Redis lease per interval makes
sure each round is enqueued once. The actors themselves are idempotent.
"""

from __future__ import annotations

import signal
import threading
import time

from loguru import logger
from redis import Redis

from domain.core.logging import configure_logging
from domain.core.settings import Settings, get_settings
from workers.broker import setup_broker


def run_round(settings: Settings, client: Redis, now: float) -> bool:
    """Enqueue one round if no other scheduler has this interval; True if we did."""
    from workers.actors import PERIODIC_ACTORS

    interval = settings.maintenance_interval_seconds
    slot = int(now // interval)
    key = f"{settings.redis_key_prefix}scheduler:round:{slot}"
    if not client.set(key, b"1", nx=True, ex=interval * 2):
        return False
    for actor in PERIODIC_ACTORS:
        actor.send()
    logger.bind(slot=slot, actors=len(PERIODIC_ACTORS)).info("maintenance round enqueued")
    return True


def main() -> None:
    settings = get_settings()
    configure_logging(settings)
    broker = setup_broker(settings)
    client = Redis.from_url(settings.redis_url.get_secret_value())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    logger.info("scheduler started, every {}s", settings.maintenance_interval_seconds)
    while not stop.is_set():
        try:
            run_round(settings, client, time.time())
        except Exception:
            logger.exception("scheduler round failed")
        stop.wait(min(settings.maintenance_interval_seconds, 30))
    broker.close()
    client.close()


if __name__ == "__main__":
    main()
