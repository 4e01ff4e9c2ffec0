"""uvicorn's HTTP protocol with a deadline for request headers.

uvicorn waits for a request's headers without limit: a client that opens connections
and sends a header byte every few seconds (slowloris) holds each connection, and its
file descriptor, for as long as it likes. Here the headers of each request must arrive
within ``GATEHOUSE_REQUEST_HEADER_TIMEOUT_SECONDS`` of the connection opening (or of
the request's first byte, on a kept-alive connection); otherwise the connection is
closed. (Bodies have their own deadline
in resolvers/http/middleware.py.) Behind a proxy, set the proxy's own timeouts as well:
README, "Slow clients".

It also closes idle kept-alive connections gently at shutdown. uvicorn closes a
connection with no request in progress the moment it is told to stop; but a request
the client wrote just before (a load balancer's last pick before the drain) may be in
the socket unread, and closing then resets it. An idle connection is closed after
``SHUTDOWN_LINGER_SECONDS`` instead; a request arriving meanwhile is answered with
``Connection: close``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from domain.core.settings import get_settings

# Long enough for bytes already sent to be read on a loaded machine; short against the
# shutdown grace period (uvicorn waits for lingering connections within it).
SHUTDOWN_LINGER_SECONDS = 0.5


class HeaderDeadlineProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = get_settings().request_header_timeout_seconds
        self._header_deadline: asyncio.TimerHandle | None = None
        self._stopping = False

    def shutdown(self) -> None:
        self._stopping = True
        if self.cycle is None or self.cycle.response_complete:
            self.loop.call_later(SHUTDOWN_LINGER_SECONDS, self._close_if_idle)
        else:
            self.cycle.keep_alive = False

    def _close_if_idle(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            if not self.transport.is_closing():
                self.transport.close()
        else:
            self.cycle.keep_alive = False

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
        if self._stopping and self.cycle is not None:
            self.cycle.keep_alive = False  # the last request of a stopping server

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
