"""uvicorn's HTTP protocol with a deadline for request headers.

uvicorn waits for a request's headers without limit: a client that opens connections
and sends a header byte every few seconds (slowloris) holds each connection, and its
file descriptor, for as long as it likes. Here the headers of each request must arrive
within ``GATEHOUSE_REQUEST_HEADER_TIMEOUT_SECONDS`` of the connection opening (or of
the request's first byte, on a kept-alive connection); otherwise the connection is
closed. (Bodies have their own deadline
in resolvers/http/middleware.py.) Behind a proxy, set the proxy's own timeouts as well:
README, "Slow clients".
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from domain.core.settings import get_settings


class HeaderDeadlineProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = get_settings().request_header_timeout_seconds
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_deadline is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(self._header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()
