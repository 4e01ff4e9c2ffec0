"""Social sign-in in headless Chromium (issue 19): the full redirect walk once.

An app's page on ``http://127.0.0.1:<port>`` (tests/browser/social_page) calls
``beginSocialSignIn`` on the real server (a subprocess) and sends the browser to the
provider: Canaille, run by pytest-iam on ``localhost``, with its real login, password
and consent pages, where the driver types and clicks like a person. The provider
redirects to the app's callback page, which calls ``completeSocialSignIn`` and then
``me`` with the session it opened (tests/browser/check_social.mjs drives it).
"""

from __future__ import annotations

import functools
import json
import shutil
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.test_web_client_browser import CHROMIUM, _npm_ci
from tests.conftest import ServiceUrls
from tests.social.conftest import EMAIL_VERIFIED
from tests.social.support import CLIENT_SECRET, register_client
from tests.support.processes import gatehouse_env, start_api

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
PROVIDER_PASSWORD = "correct horse battery staple 81"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    if shutil.which("node") is None or not Path(CHROMIUM).exists():
        pytest.skip("Node.js or Debian's chromium is missing (scripts/bootstrap.sh installs it)")
    _npm_ci(HERE, HERE / "node_modules" / "playwright-core")
    handler = functools.partial(_Quiet, directory=str(HERE / "social_page"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def issuer(iam_server: Any, page_origin: str) -> str:
    """Canaille with the app's callback page registered for Gatehouse's client."""
    iam_server.app.config["CANAILLE_OIDC"]["USERINFO_MAPPING"]["EMAIL_VERIFIED"] = EMAIL_VERIFIED
    register_client(iam_server, "gatehouse-browser", redirect_uri=f"{page_origin}/callback.html")
    return str(iam_server.url).rstrip("/")


@pytest.fixture(scope="module")
def api(
    service_urls: ServiceUrls,
    database_name: str,
    page_origin: str,
    issuer: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    provider = {"issuer": issuer, "client_id": "gatehouse-browser", "client_secret": CLIENT_SECRET}
    env = gatehouse_env(
        {
            "GATEHOUSE_ENVIRONMENT": "test",
            "GATEHOUSE_MONGODB_URL": service_urls.mongodb_url,
            "GATEHOUSE_MONGODB_DATABASE": database_name,
            "GATEHOUSE_REDIS_URL": service_urls.redis_url,
            "GATEHOUSE_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "GATEHOUSE_CORS_ORIGINS": page_origin,
            "GATEHOUSE_SOCIAL_PROVIDERS": json.dumps({"iam": provider}),
            "GATEHOUSE_SOCIAL_REDIRECT_URIS": f"{page_origin}/callback.html",
            "GATEHOUSE_LOG_LEVEL": "INFO",
        }
    )
    log = tmp_path_factory.mktemp("logs") / "api.log"
    process, port = start_api(env, log)
    yield f"http://127.0.0.1:{port}/graphql"
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_the_redirect_walk_signs_in_through_the_providers_pages(
    api: str, page_origin: str, iam_server: Any, issuer: str
) -> None:
    login = f"walker{uuid.uuid4().hex[:8]}"
    email = f"{login}@example.com"
    person = iam_server.random_user(
        user_name=login, emails=[email], given_name="Walker", family_name="Browser"
    )
    with iam_server.app.app_context():
        iam_server.backend.set_user_password(person, PROVIDER_PASSWORD)
    assert iam_server.logged_user is None  # the provider's own login page, not a shortcut
    page = f"{page_origin}/index.html?api={quote(api, safe='')}&provider=iam"
    result = subprocess.run(
        ["node", "check_social.mjs", page, login, PROVIDER_PASSWORD],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=180,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    lines = result.stdout.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if result.returncode != 0 or report.get("problems") or not report.get("outcome"):
        pytest.fail(json.dumps(report, indent=1) + "\n" + result.stderr[-2000:], pytrace=False)
    assert report["providerOrigin"] == issuer
    # The app's page, the provider's login, password and consent pages, the callback.
    assert report["pages"][0] == f"{page_origin}/index.html"
    assert report["pages"][-1] == f"{page_origin}/callback.html"
    at_provider = [p.removeprefix(issuer) for p in report["pages"] if p.startswith(issuer)]
    assert at_provider == ["/login", "/auth/password", "/oauth/authorize"]
    assert report["consentPage"].endswith("/authorize")
    assert report["outcome"] == {
        "completed": {"__typename": "AuthPayload", "email": email},
        "me": {"email": email, "identities": [{"provider": "iam"}]},
    }
    # The callback page took the single-use code out of the address bar.
    assert report["finalUrl"] == f"{page_origin}/callback.html"
