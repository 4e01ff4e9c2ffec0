"""Passkeys in headless Chromium (issue 18): its virtual authenticator (DevTools'
``WebAuthn.addVirtualAuthenticator``: CTAP2, internal transport, resident keys, user
verification) creates and uses a real passkey on a small page that calls Gatehouse's
GraphQL with ``navigator.credentials.create/get``, against the real server.

The page is served from ``http://localhost:<port>``: WebAuthn needs a secure context
(localhost is one) and an origin on the RP ID (``localhost``), which the server is
configured to accept (GATEHOUSE_PASSKEY_ORIGINS) and to let call it (CORS).
"""

from __future__ import annotations

import functools
import json
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.test_web_client_browser import CHROMIUM, _account, _npm_ci
from tests.conftest import ServiceUrls
from tests.support.processes import gatehouse_env, start_api

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
PASSWORD = "lantern orchard pebble 4471"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    if shutil.which("node") is None or not Path(CHROMIUM).exists():
        pytest.skip("Node.js or Debian's chromium is missing (scripts/bootstrap.sh installs it)")
    _npm_ci(HERE, HERE / "node_modules" / "playwright-core")
    handler = functools.partial(_Quiet, directory=str(HERE / "passkey_page"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def api(
    service_urls: ServiceUrls,
    database_name: str,
    page_origin: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, str]]]:
    env = gatehouse_env(
        {
            "GATEHOUSE_ENVIRONMENT": "test",
            "GATEHOUSE_MONGODB_URL": service_urls.mongodb_url,
            "GATEHOUSE_MONGODB_DATABASE": database_name,
            "GATEHOUSE_REDIS_URL": service_urls.redis_url,
            "GATEHOUSE_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "GATEHOUSE_CORS_ORIGINS": page_origin,
            "GATEHOUSE_PASSKEY_RP_ID": "localhost",
            "GATEHOUSE_PASSKEY_ORIGINS": page_origin,
            "GATEHOUSE_LOG_LEVEL": "INFO",
        }
    )
    log = tmp_path_factory.mktemp("logs") / "api.log"
    process, port = start_api(env, log)
    yield f"http://127.0.0.1:{port}/graphql", env
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_register_sign_out_and_sign_in_usernameless_then_as_the_second_factor(
    api: tuple[str, dict[str, str]], page_origin: str
) -> None:
    url, env = api
    email = "passkey.browser@example.com"
    _account(env, email)
    page = f"{page_origin}/index.html?api={quote(url, safe='')}"
    result = subprocess.run(
        ["node", "check_passkeys.mjs", page, email, PASSWORD],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=180,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    lines = result.stdout.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if result.returncode != 0 or report.get("problems") or not report:
        pytest.fail(json.dumps(report, indent=1) + "\n" + result.stderr[-2000:], pytrace=False)
    assert report["passkey"]["name"] == "Chromium"
    # A discoverable credential, bound to the RP ID, with user verification.
    assert report["storedCredentials"] == [{"resident": True, "rpId": "localhost", "signCount": 1}]
    assert report["logout"] == 1
    assert report["usernamelessEmail"] == email
    assert report["secondFactorEmail"] == email
    assert report["oneGesture"] == "AuthPayload"
    assert report["signCountAfter"] == [4]  # one per signature, the server checked each
