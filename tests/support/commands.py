"""Counting the database commands the app sends, for round-trip budget tests.

One listener per test process: pymongo cannot unregister a listener, and it only
hears clients created after ``install()``. Call ``install()`` before building the app.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pymongo import monitoring


class CommandCounter(monitoring.CommandListener):
    """The (command, collection) pairs sent while armed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._installed = False
        self.armed = False
        self.seen: list[tuple[str, str]] = []

    def install(self) -> None:
        if not self._installed:
            monitoring.register(self)
            self._installed = True

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.armed:
            collection = event.command.get(event.command_name)
            with self._lock:
                self.seen.append((event.command_name, str(collection)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextmanager
    def counting(self) -> Iterator[list[tuple[str, str]]]:
        self.seen = []
        self.armed = True
        try:
            yield self.seen
        finally:
            self.armed = False


COMMANDS = CommandCounter()
