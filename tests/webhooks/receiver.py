"""A real HTTP receiver (``http.server`` in a thread) that records what it is sent.

Tell it what to answer next (``respond(500, 500, 200)``); after the script it
answers 200. A 3xx answer carries ``Location: /elsewhere``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        receiver = self.server.receiver
        status = receiver.record(
            Received(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
        )
        if receiver.delay_seconds:
            time.sleep(receiver.delay_seconds)
        reply = f"answer {status}".encode()
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: Receiver) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.receiver = receiver


class Receiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Received] = []
        self._script: deque[int] = deque()
        self.delay_seconds = 0.0
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._script.clear()
            self.delay_seconds = 0.0

    def respond(self, *statuses: int) -> None:
        with self._lock:
            self._script.extend(statuses)

    def record(self, request: Received) -> int:
        with self._lock:
            self._requests.append(request)
            return self._script.popleft() if self._script else 200

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"expected {count} requests, got {self.requests}"
            time.sleep(0.02)
        return self.requests
