"""A Pwned Passwords style ``range`` API: a real HTTP server on 127.0.0.1 (``http.server``
in a thread) answering ``GET /range/{PREFIX}`` with ``SUFFIX:COUNT`` lines for the
passwords it is given, plus padding lines (count 0) when asked with ``Add-Padding``.

``delay_seconds`` holds every answer (longer than a deployment's timeout: the timeout
tests); ``status`` answers every request with that status instead.
"""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        api = self.server.api
        api.seen.append((self.path, dict(self.headers.items())))
        if api.delay_seconds:
            time.sleep(api.delay_seconds)
        status, body = api.answer(self.path, self.headers.get("Add-Padding") == "true")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting, as it should

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: RangeApi) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api


class RangeApi:
    def __init__(self, passwords: list[str]) -> None:
        self.hashes = {sha1_hex(p) for p in passwords}
        self.delay_seconds = 0.0
        self.status = 200
        self.seen: list[tuple[str, dict[str, str]]] = []
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, path: str, padding: bool) -> tuple[int, bytes]:
        prefix = path.rsplit("/", 1)[-1].upper()
        if self.status != 200 or not path.startswith("/range/") or len(prefix) != 5:
            return (self.status if self.status != 200 else 404), b""
        lines = [f"{h[5:]}:{7}" for h in sorted(self.hashes) if h.startswith(prefix)]
        if padding:
            lines += [f"{i:035X}:0" for i in range(50)]
        return 200, "\r\n".join(lines).encode()

    def start(self) -> RangeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
