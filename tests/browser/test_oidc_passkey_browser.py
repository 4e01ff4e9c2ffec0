"""The built-in sign-in page's passkey button in headless Chromium (issue 20, 5b): the
server (a subprocess) on ``http://localhost:<port>``, its own origin a passkey origin;
Chromium's virtual authenticator holds the person's discoverable passkey, registered
through GraphQL by the software authenticator and handed to Chromium over DevTools
(tests/browser/check_oidc_passkey.mjs). The page's script, served by Gatehouse under the
page's CSP, begins, asks the authenticator and posts the assertion; the code that comes
back is exchanged and the ID token says ``hwk``."""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
import services
from cryptography.hazmat.primitives import serialization

from domain.core.clock import SystemClock
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.passwords import create_password_hasher
from domain.identity.provisioning import create_user
from tests.api.identity_ops import PASSWORD, login
from tests.browser.test_web_client_browser import CHROMIUM, _npm_ci
from tests.oauth.support import create_client
from tests.passkeys.support import register_passkey
from tests.support.processes import ROOT, settings_env
from tests.support.webauthn_authenticator import SoftwareAuthenticator

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
EMAIL = "key.browser@example.com"


class _Client(BaseHTTPRequestHandler):
    """The client's redirect URI: any GET answered 200 (the code is read from the URL)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"back at the client")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def client_redirect() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Client)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def port() -> int:
    if shutil.which("node") is None or not Path(CHROMIUM).exists():
        pytest.skip("Node.js or Debian's chromium is missing (scripts/bootstrap.sh installs it)")
    _npm_ci(HERE, HERE / "node_modules" / "playwright-core")
    return services.free_port()


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], port: int) -> Settings:
    origin = f"http://localhost:{port}"
    return make_settings(
        public_url=origin, passkey_rp_id="localhost", passkey_origins=[origin], log_level="INFO"
    )


@pytest.fixture(scope="module")
def issuer(
    settings: Settings, port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("oidc-passkey-browser") / "api.log"
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
async def prepared(
    issuer: str, settings: Settings, client_redirect: str, database: None
) -> dict[str, Any]:
    """The client, and the person's passkey as DevTools' ``WebAuthn.Credential``."""
    hasher = create_password_hasher(settings)
    common = dict(settings=settings, clock=SystemClock(), hasher=hasher, password=PASSWORD)
    await create_user(**common, email="kb.admin@example.com", first_name="Kb", last_name="Admin",
                      role=Role.ADMIN, email_verified=True)  # fmt: skip
    await create_user(**common, email=EMAIL, first_name="Key", last_name="Browser",
                      role=Role.STUDENT, email_verified=True)  # fmt: skip
    hasher.close()
    authenticator = SoftwareAuthenticator(origin=issuer)
    async with httpx.AsyncClient(base_url=issuer) as http:
        admin = (await login(http, "kb.admin@example.com"))["accessToken"]
        created = await create_client(
            http, admin, "CONFIDENTIAL", name="Notes", grantTypes=["AUTHORIZATION_CODE"],
            redirectUris=[client_redirect], scopes=["openid", "email"], firstParty=True,
        )  # fmt: skip
        person = (await login(http, EMAIL))["accessToken"]
        added = await register_passkey(http, person, authenticator)
    assert added["__typename"] == "PasskeyAdded", added
    (held,) = authenticator.credentials.values()
    pkcs8 = held.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    credential = {
        "credentialId": base64.b64encode(held.credential_id).decode(),
        "isResidentCredential": True,
        "rpId": "localhost",
        "privateKey": base64.b64encode(pkcs8).decode(),
        "userHandle": base64.b64encode(held.user_handle).decode(),
        "signCount": held.sign_count,
    }
    return {"client": created, "credential": credential}


def test_the_passkey_button_signs_in_in_a_browser(
    issuer: str, prepared: dict[str, Any], client_redirect: str
) -> None:
    client = prepared["client"]
    client_id = client["client"]["id"]
    state = secrets.token_urlsafe(16)
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": client_redirect,
             "scope": "openid email", "state": state}  # fmt: skip
    authorize = f"{issuer}/oauth2/authorize?{urlencode(query)}"
    result = subprocess.run(
        ["node", "check_oidc_passkey.mjs", authorize, client_redirect,
         json.dumps(prepared["credential"])],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=180,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )  # fmt: skip
    lines = result.stdout.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if result.returncode != 0 or report.get("problems") or not report.get("finalUrl"):
        pytest.fail(json.dumps(report, indent=1) + "\n" + result.stderr[-2000:], pytrace=False)
    assert report["buttonVisible"] is True
    assert "script-src 'self'; connect-src 'self'" in report["csp"]
    assert report["csp"].startswith("default-src 'none'")
    assert report["signCount"] == [1]
    answer = parse_qs(urlsplit(report["finalUrl"]).query)
    assert answer["state"] == [state]
    token = httpx.post(
        f"{issuer}/oauth2/token",
        data={"grant_type": "authorization_code", "code": answer["code"][0],
              "redirect_uri": client_redirect},
        auth=(client_id, client["clientSecret"]),
        timeout=10,
    )  # fmt: skip
    assert token.status_code == 200, token.text
    claims = jwt.decode(token.json()["id_token"], options={"verify_signature": False})
    assert claims["amr"] == ["hwk", "user", "mfa"]
    assert claims["email"] == EMAIL
