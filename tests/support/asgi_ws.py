"""A WebSocket client that drives an ASGI app in-process (the app's clock stays the test's).

It speaks the ASGI WebSocket messages a server such as uvicorn would send, so the
app under test runs its real code path; only the network is left out.
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any

from starlette.types import ASGIApp, Message


class SocketClosedError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class AsgiWebSocket:
    def __init__(
        self,
        app: ASGIApp,
        path: str = "/graphql",
        subprotocols: tuple[str, ...] = ("graphql-transport-ws",),
        headers: dict[str, str] | None = None,
    ) -> None:
        self._app = app
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "client": ("127.0.0.1", 50000),
            "server": ("t", 80),
            "subprotocols": list(subprotocols),
            "headers": [
                (b"host", b"t"),
                (b"sec-websocket-protocol", ", ".join(subprotocols).encode()),
                *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
            ],
        }
        self._task: asyncio.Task[None] | None = None
        self.subprotocol: str | None = None
        self.frames: list[str] = []  # "text" or "bytes", one per message received

    async def __aenter__(self) -> AsgiWebSocket:
        self._task = asyncio.create_task(
            self._app(self._scope, self._to_app.get, self._from_app.put)  # type: ignore[arg-type]
        )
        await self._to_app.put({"type": "websocket.connect"})
        message = await self._next()
        if message["type"] == "websocket.close":
            raise SocketClosedError(message.get("code", 1000), message.get("reason", ""))
        assert message["type"] == "websocket.accept", message
        self.subprotocol = message.get("subprotocol")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        assert self._task is not None
        await asyncio.wait_for(self._task, 10)

    async def _next(self, wait: float = 10) -> Message:
        return await asyncio.wait_for(self._from_app.get(), wait)

    async def send(self, payload: dict[str, Any]) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": json.dumps(payload)})

    async def receive(self, wait: float = 10) -> dict[str, Any]:
        """The next message; raises SocketClosedError when the server closes instead."""
        message = await self._next(wait)
        if message["type"] == "websocket.close":
            raise SocketClosedError(message.get("code", 1000), message.get("reason", ""))
        assert message["type"] == "websocket.send", message
        if message.get("text") is not None:
            self.frames.append("text")
            return json.loads(message["text"])  # type: ignore[no-any-return]
        self.frames.append("bytes")
        return json.loads(message["bytes"])  # type: ignore[no-any-return]

    async def init(self, token: str | None) -> dict[str, Any]:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, op_id: str, query: str, **payload: Any) -> None:
        await self.send({"id": op_id, "type": "subscribe", "payload": {"query": query, **payload}})
