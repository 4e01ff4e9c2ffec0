"""Gatehouse as an OpenID provider in headless Chromium (issue 20): the full walk once.

A relying party's page on ``http://127.0.0.1:<port>`` (tests/browser/oidc_page, a public
client written against the specifications only) reads discovery and sends the browser
to ``/oauth2/authorize`` on the real server (a subprocess). There the driver types the
email and password, then the TOTP code, on Gatehouse's built-in pages and allows the
consent page; the provider redirects to the page's callback, whose script exchanges the
code with its PKCE verifier (a cross-origin POST), verifies the ID token against the
JWKS with WebCrypto and calls userinfo (tests/browser/check_oidc.mjs drives it).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyotp
import pytest
import services

from domain.core.clock import SystemClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.passwords import create_password_hasher
from domain.identity.provisioning import create_user
from tests.api.identity_ops import PASSWORD, call, login
from tests.browser.test_web_client_browser import CHROMIUM, _npm_ci
from tests.oauth.inprocess import BEGIN_TOTP, CONFIRM_TOTP
from tests.oauth.support import create_client
from tests.support.processes import ROOT, settings_env

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
EMAIL = "ada.browser@example.com"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    if shutil.which("node") is None or not Path(CHROMIUM).exists():
        pytest.skip("Node.js or Debian's chromium is missing (scripts/bootstrap.sh installs it)")
    _npm_ci(HERE, HERE / "node_modules" / "playwright-core")
    handler = functools.partial(_Quiet, directory=str(HERE / "oidc_page"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def port() -> int:
    return services.free_port()


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], port: int) -> Settings:
    # The issuer is the server's own address; rate limits stay off as elsewhere in tests.
    return make_settings(public_url=f"http://127.0.0.1:{port}", log_level="INFO")


@pytest.fixture(scope="module")
def issuer(
    settings: Settings, port: int, page_origin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("oidc-browser") / "api.log"
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=ROOT,
            env={**settings_env(settings), "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        services.wait_for_port(port, process, timeout=60)
        yield settings.public_url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
async def relying_party(
    issuer: str, settings: Settings, page_origin: str, database: None
) -> tuple[str, str]:
    """The page's client id, and the person's TOTP secret (enrolled through GraphQL)."""
    hasher = create_password_hasher(settings)
    common = dict(settings=settings, clock=SystemClock(), hasher=hasher, password=PASSWORD)
    await create_user(**common, email="rp.admin@example.com", first_name="Rp", last_name="Admin",
                      role=Role.ADMIN, email_verified=True)  # fmt: skip
    await create_user(**common, email=EMAIL, first_name="Ada", last_name="Browser",
                      role=Role.STUDENT, email_verified=True)  # fmt: skip
    hasher.close()
    async with httpx.AsyncClient(base_url=issuer) as http:
        admin = (await login(http, "rp.admin@example.com"))["accessToken"]
        created = await create_client(
            http, admin, "PUBLIC", name="Notes", grantTypes=["AUTHORIZATION_CODE"],
            redirectUris=[f"{page_origin}/callback.html"], scopes=["openid", "email", "profile"],
        )  # fmt: skip
        person = (await login(http, EMAIL))["accessToken"]
        begun = await call(http, BEGIN_TOTP, token=person)
        secret = str(begun["data"]["beginTotpEnrollment"]["secret"])
        code = pyotp.TOTP(secret).now()
        confirmed = await call(http, CONFIRM_TOTP, {"code": code}, token=person)
    assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
    return created["client"]["id"], secret


def test_the_code_flow_with_totp_and_consent_in_a_browser(
    issuer: str, page_origin: str, relying_party: tuple[str, str]
) -> None:
    client_id, secret = relying_party
    # The next step's code: the enrollment spent this one, and ±1 step is accepted.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    page = f"{page_origin}/index.html?{urlencode({'issuer': issuer, 'client_id': client_id})}"
    result = subprocess.run(
        ["node", "check_oidc.mjs", page, EMAIL, PASSWORD, code],
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
    # The app's page, Gatehouse's sign-in (password, then code) and consent, the callback.
    assert report["pages"][:4] == [
        f"{page_origin}/index.html",
        f"{issuer}/oauth2/login",
        f"{issuer}/oauth2/login",
        f"{issuer}/oauth2/consent",
    ]
    # (The callback's history.replaceState counts as a navigation of its own.)
    assert set(report["pages"][4:]) == {f"{page_origin}/callback.html"}
    for path in ("/oauth2/login", "/oauth2/consent"):
        policy = report["csp"][path]
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        # Forms post here, and the redirects after them may reach the client only.
        assert f"form-action 'self' {page_origin}" in policy
    assert report["consentHeading"] == "Allow Notes to use your account?"
    assert report["consentItems"] == ["Your email address", "Know who you are", "Your name"]
    outcome = report["outcome"]
    assert outcome["tokenType"] == "Bearer"
    assert outcome["idToken"]["email"] == EMAIL
    assert outcome["idToken"]["amr"] == ["pwd", "otp"]
    assert outcome["idToken"]["name"] == "Ada Browser"
    assert outcome["userinfo"] == {
        "sub": outcome["idToken"]["sub"],
        "email": EMAIL,
        "email_verified": True,
        "name": "Ada Browser",
    }
    # The callback page took the single-use code out of the address bar.
    assert report["finalUrl"] == f"{page_origin}/callback.html"
