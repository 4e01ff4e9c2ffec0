"""Counting the round trips one operation makes, for the round-trip budget tests: the
database commands (a pymongo command listener) and the Redis commands (the app's
clients, wrapped).

Only what the counting task sends is recorded, with the tasks and threads it starts
(they inherit its context): a background flusher, a maintenance sweep or a worker in
the same process never lands in a count, so a count is the same on every run.

pymongo cannot unregister a listener, and it only hears clients created after
``install()``: call it before building the app. Redis clients are wrapped once the
app has made them (``watch_app``).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pymongo import monitoring


@dataclass(frozen=True, slots=True)
class RedisTrip:
    """One round trip to Redis: a command, or the commands of a pipeline sent together."""

    client: str
    commands: tuple[str, ...]

    def __str__(self) -> str:
        joined = "+".join(self.commands)
        return f"{self.client}:{joined}" if len(self.commands) == 1 else f"{self.client}:[{joined}]"


class Recording(list[tuple[str, str]]):
    """The database commands one operation sent, in order, as (command, collection);
    ``filters`` holds each one's filter keys, ``redis`` the Redis round trips."""

    def __init__(self) -> None:
        super().__init__()
        self.filters: list[tuple[str, ...]] = []
        self.redis: list[RedisTrip] = []
        self.open = True
        self._lock = threading.Lock()

    def add_command(self, name: str, collection: str, filter_keys: tuple[str, ...]) -> None:
        with self._lock:
            if self.open:
                self.append((name, collection))
                self.filters.append(filter_keys)

    def add_trip(self, trip: RedisTrip) -> None:
        with self._lock:
            if self.open:
                self.redis.append(trip)

    def lookups(self) -> Counter[tuple[str, str]]:
        """Each command with how it looked rows up: ("find", "users by email")."""
        shaped: Counter[tuple[str, str]] = Counter()
        for (name, collection), keys in zip(self, self.filters, strict=True):
            shaped[(name, f"{collection} by {','.join(keys)}" if keys else collection)] += 1
        return shaped

    def redis_commands(self) -> list[str]:
        """Every Redis command sent, those inside pipelines included."""
        return [command for trip in self.redis for command in trip.commands]

    def summary(self) -> str:
        """Both lists, for an assertion message."""
        database = ", ".join(
            f"{name} {collection}" + (f" by {','.join(keys)}" if keys else "")
            for (name, collection), keys in zip(self, self.filters, strict=True)
        )
        redis = ", ".join(str(trip) for trip in self.redis)
        return (
            f"database ({len(self)}): {database or '-'}\nredis ({len(self.redis)}): {redis or '-'}"
        )


_recording: ContextVar[Recording | None] = ContextVar("round_trip_recording", default=None)


def _command_name(args: tuple[Any, ...]) -> str:
    name = args[0] if args else "?"
    text = name.decode() if isinstance(name, bytes) else str(name)
    return text.upper()


class CommandCounter(monitoring.CommandListener):
    """Records, while ``counting()``, what the counting task sends to the database and
    to the Redis clients it watches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> None:
        with self._lock:
            if not self._installed:
                monitoring.register(self)
                self._installed = True

    # The database, through pymongo's listener: it runs in the task that sends.

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        recording = _recording.get()
        if recording is None:
            return
        target = event.command.get(event.command_name)
        recording.add_command(event.command_name, str(target), _filter_keys(event.command))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    # Redis: a client's commands and its pipelines' executions, one trip each.

    def watch_app(self, state: Any) -> None:
        """Watch the app's Redis client and its job broker's (an enqueued job is a trip)."""
        self.watch_redis(state.redis, "app")
        self.watch_redis(state.broker.client, "broker")

    def watch_redis(self, client: Any, label: str) -> None:
        if getattr(client, "_round_trips_watched", False):
            return
        client._round_trips_watched = True
        send = client.execute_command
        make_pipeline = client.pipeline
        if inspect.iscoroutinefunction(send):

            @functools.wraps(send)
            async def execute_command(*args: Any, **options: Any) -> Any:
                _note(label, (_command_name(args),))
                return await send(*args, **options)

        else:

            @functools.wraps(send)
            def execute_command(*args: Any, **options: Any) -> Any:
                _note(label, (_command_name(args),))
                return send(*args, **options)

        @functools.wraps(make_pipeline)
        def pipeline(*args: Any, **kwargs: Any) -> Any:
            pipe = make_pipeline(*args, **kwargs)
            _watch_pipeline(pipe, label)
            return pipe

        client.execute_command = execute_command
        client.pipeline = pipeline

    @contextmanager
    def counting(self) -> Iterator[Recording]:
        recording = Recording()
        token = _recording.set(recording)
        try:
            yield recording
        finally:
            _recording.reset(token)
            recording.open = False


def _filter_keys(command: Any) -> tuple[str, ...]:
    """The fields a command selects rows by (a find's filter, a count's query, an
    update's or delete's first ``q``, an aggregation's leading ``$match``)."""
    query = command.get("filter", command.get("query"))
    for statements in ("updates", "deletes"):
        if query is None and command.get(statements):
            query = command[statements][0].get("q")
    pipeline = command.get("pipeline")
    if query is None and pipeline and "$match" in pipeline[0]:
        query = pipeline[0]["$match"]
    return tuple(sorted(query)) if isinstance(query, dict) else ()


def _note(label: str, commands: tuple[str, ...]) -> None:
    recording = _recording.get()
    if recording is not None:
        recording.add_trip(RedisTrip(label, commands))


def _watch_pipeline(pipe: Any, label: str) -> None:
    """A pipeline's buffered commands leave in one trip, when it executes."""
    execute = pipe.execute

    def stack() -> tuple[str, ...]:
        names = tuple(_command_name(args) for args, _ in pipe.command_stack)
        transactional = pipe.is_transaction or pipe.explicit_transaction
        return ("MULTI", *names, "EXEC") if transactional else names

    if inspect.iscoroutinefunction(execute):

        async def execute_async(*args: Any, **kwargs: Any) -> Any:
            if pipe.command_stack:
                _note(label, stack())
            return await execute(*args, **kwargs)

        pipe.execute = execute_async
    else:

        def execute_sync(*args: Any, **kwargs: Any) -> Any:
            if pipe.command_stack:
                _note(label, stack())
            return execute(*args, **kwargs)

        pipe.execute = execute_sync


COMMANDS = CommandCounter()
