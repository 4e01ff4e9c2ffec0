"""A provider that answers too late: a real HTTP server on 127.0.0.1 (``http.server`` in a
thread) publishing a discovery document that points at itself, and holding the answer
to chosen paths for ``delay_seconds`` (longer than the deployment's timeout).

Only what the timeout tests need; the OpenID Connect behaviour is Canaille's (pytest-iam).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._answer()

    def _answer(self) -> None:
        provider = self.server.provider
        path = self.path.split("?", 1)[0]
        provider.seen.append(path)
        if path in provider.slow_paths:
            time.sleep(provider.delay_seconds)
        status, body = provider.document(path)
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting, as it should

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, provider: SlowProvider) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.provider = provider


class SlowProvider:
    def __init__(self, delay_seconds: float) -> None:
        self.delay_seconds = delay_seconds
        self.slow_paths: set[str] = set()
        self.seen: list[str] = []
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def document(self, path: str) -> tuple[int, object]:
        if path == "/.well-known/openid-configuration":
            return 200, {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
            }
        if path == "/jwks":
            return 200, {"keys": []}
        if path == "/token":
            return 500, {"error": "server_error"}
        return 404, {}

    def start(self) -> SlowProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
