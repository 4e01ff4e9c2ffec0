"""Run an ASGI app's lifespan in-process, the way uvicorn does, for httpx's ASGITransport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class LifespanManager:
    def __init__(self, app: ASGIApp, timeout: float = 30) -> None:
        self._app = app
        self._timeout = timeout
        self._state: dict[str, Any] = {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @property
    def state(self) -> Any:
        """What the lifespan yielded under ``gatehouse`` (the AppState)."""
        return self._state["gatehouse"]

    @property
    def app(self) -> ASGIApp:
        """The app, with the lifespan state copied into each request's scope."""

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope = {**scope, "state": dict(self._state)}
            await self._app(scope, receive, send)

        return with_state

    async def __aenter__(self) -> LifespanManager:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self._state}
        self._task = asyncio.create_task(
            self._app(scope, self._to_app.get, self._from_app.put)  # type: ignore[arg-type]
        )
        await self._to_app.put({"type": "lifespan.startup"})
        message = await asyncio.wait_for(self._from_app.get(), self._timeout)
        if message["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"startup failed: {message.get('message')}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._to_app.put({"type": "lifespan.shutdown"})
        message = await asyncio.wait_for(self._from_app.get(), self._timeout)
        if message["type"] != "lifespan.shutdown.complete":
            raise RuntimeError(f"shutdown failed: {message.get('message')}")
        assert self._task is not None
        await asyncio.wait_for(self._task, self._timeout)


# The conftest fixture ``app_with``: ``async with app_with(clock=..., **overrides) as app``.
AppWith = Callable[..., AbstractAsyncContextManager[LifespanManager]]


@asynccontextmanager
async def asgi_client(
    manager: LifespanManager, client: tuple[str, int] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process HTTP client of a running app (``client`` is the peer address it reports)."""
    transport = httpx.ASGITransport(app=manager.app, client=client or ("127.0.0.1", 123))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


@asynccontextmanager
async def app_client(settings: Any, clock: Any = None) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the app built on ``settings`` (and ``clock``, when given);
    ``app_state`` is its AppState."""
    from app import create_app

    async with (
        LifespanManager(create_app(settings, clock=clock)) as manager,
        asgi_client(manager) as http,
    ):
        http.app_state = manager.state  # type: ignore[attr-defined]
        yield http
