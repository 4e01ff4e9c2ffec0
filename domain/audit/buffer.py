"""Audit events written in bulk by the process, off the request path.

A sign-in used to wait for its own audit insert; at the benchmark's rates that insert
was a tenth of the database work of a sign-in. While the API runs its flusher, events
queue here and are written together every ``audit_flush_interval_ms`` (or at once when
``audit_buffer_max_events`` are waiting). What that trades, and what it keeps:

- An event exists, with its id, from the moment it is recorded: the live event bus and
  the webhook listener get it at once, as before.
- A clean stop writes everything (the flusher's last act, in the lifespan's shutdown).
- A crash of the process (SIGKILL, power loss) can lose the events of the last interval
  (100 ms by default). ``audit_flush_interval_ms = 0`` writes each event before the
  request goes on, as before, for deployments that want no such window.
- Memory is bounded: a full buffer is written by the request that filled it.
- The database away: the batch goes back to the front of the queue (up to the bound)
  and the next flush tries again; beyond the bound the oldest are dropped, loudly.
- Reads of the trail through the audit service flush first, so a process reads its own
  events at once; another process sees them within the interval.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from loguru import logger
from pymongo.errors import PyMongoError

from domain.audit.documents import AuditEvent


class AuditBuffer:
    def __init__(self, *, interval_seconds: float, max_events: int) -> None:
        self._interval = interval_seconds
        self._max = max_events
        self._pending: deque[AuditEvent] = deque()
        self._due = asyncio.Event()
        self._running = False
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        """Whether events are being buffered (a flusher is running)."""
        return self._running and self._interval > 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def add(self, event: AuditEvent) -> None:
        self._pending.append(event)
        if len(self._pending) >= self._max:
            await self.flush()

    async def flush(self) -> None:
        """Write what is waiting in one bulk insert; never raises."""
        async with self._lock:
            if not self._pending:
                return
            batch = list(self._pending)
            self._pending.clear()
            try:
                await AuditEvent.insert_many(batch)
            except PyMongoError as error:
                kept = batch[-self._max :]
                self._pending.extendleft(reversed(kept))
                logger.bind(events=len(batch), kept=len(kept)).error(
                    "audit events not written yet: {}", error
                )

    async def run_flusher(self) -> None:
        """Buffer from now on and write every interval, until cancelled; then write
        what is left and go back to writing each event at once."""
        self._running = True
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._due.wait(), timeout=self._interval)
                self._due.clear()
                await self.flush()
        finally:
            self._running = False
            await asyncio.shield(self.flush())
