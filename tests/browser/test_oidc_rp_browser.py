"""Gatehouse as an OpenID provider for a server-side relying party, in headless Chromium
(issue 20): the authorization-code flow with PKCE, then refresh, introspection,
revocation and RP-initiated logout, all through the browser.

The relying party (tests/browser/oidc_rp.py) is a Starlette app on authlib's client,
with idpyoidc verifying the same ID token; its two clients (the app, and a resource
server that introspects) are registered through the GraphQL admin mutations of the real
API process. tests/browser/check_oidc_rp.mjs walks: the RP's /login → Gatehouse's
sign-in page (password, then the TOTP code) → consent → the RP's callback (ID token
verified by both libraries, userinfo) → /refresh (new tokens, the old refresh token
inactive) → /introspect (active) → /revoke (the access token) → /introspect (inactive)
→ /logout (Gatehouse's end-session endpoint with the ID token, back to the registered
post-logout URI; the session's refresh token is dead) → /login shows the sign-in page
again. Gatehouse's pages log no console error and no CSP violation on the way.

The hand-written JavaScript RP (test_oidc_browser.py) stays beside this one: it is the
public browser client (cross-origin token exchange, CORS, WebCrypto).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
from tests.browser.oidc_rp import AFTER_LOGOUT, CALLBACK, RelyingParty, serving
from tests.browser.test_web_client_browser import CHROMIUM, _npm_ci
from tests.oauth.inprocess import BEGIN_TOTP, CONFIRM_TOTP
from tests.oauth.support import create_client
from tests.support.processes import settings_env, start_api

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
EMAIL = "grace.rp@example.com"


@pytest.fixture(scope="module")
def port() -> int:
    return services.free_port()


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], port: int) -> Settings:
    # The issuer is the server's own address; rate limits stay off as elsewhere in tests.
    return make_settings(public_url=f"http://127.0.0.1:{port}", log_level="INFO")


@pytest.fixture(scope="module")
def issuer(
    settings: Settings, port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if shutil.which("node") is None or not Path(CHROMIUM).exists():
        pytest.skip("Node.js or Debian's chromium is missing (scripts/bootstrap.sh installs it)")
    _npm_ci(HERE, HERE / "node_modules" / "playwright-core")
    log = tmp_path_factory.mktemp("oidc-rp") / "api.log"
    process, _ = start_api(settings_env(settings), log, port)
    try:
        yield settings.public_url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
async def registered(issuer: str, settings: Settings, database: None) -> tuple[RelyingParty, str]:
    """The relying party's settings (its clients created through GraphQL by an admin),
    and the person's TOTP secret (enrolled through GraphQL)."""
    hasher = create_password_hasher(settings)
    for email, first, last, role in (
        ("rp.owner@example.com", "Rp", "Owner", Role.ADMIN),
        (EMAIL, "Grace", "Hopper", Role.STUDENT),
    ):
        await create_user(
            settings=settings, clock=SystemClock(), hasher=hasher, password=PASSWORD,
            email=email, first_name=first, last_name=last, role=role, email_verified=True,
        )  # fmt: skip
    hasher.close()
    origin = f"http://127.0.0.1:{services.free_port()}"
    async with httpx.AsyncClient(base_url=issuer) as http:
        admin = (await login(http, "rp.owner@example.com"))["accessToken"]
        app = await create_client(
            http, admin, "CONFIDENTIAL", name="Notebook",
            grantTypes=["AUTHORIZATION_CODE", "REFRESH_TOKEN"],
            redirectUris=[origin + CALLBACK], postLogoutRedirectUris=[origin + AFTER_LOGOUT],
            scopes=["openid", "email", "profile", "offline_access"],
        )  # fmt: skip
        api = await create_client(
            http, admin, "CONFIDENTIAL", name="Notebook API", grantTypes=["CLIENT_CREDENTIALS"],
            scopes=["notes:read"], audience=f"{origin}/api",
        )  # fmt: skip
        person = (await login(http, EMAIL))["accessToken"]
        begun = await call(http, BEGIN_TOTP, token=person)
        secret = str(begun["data"]["beginTotpEnrollment"]["secret"])
        confirmed = await call(http, CONFIRM_TOTP, {"code": pyotp.TOTP(secret).now()}, token=person)
    assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
    rp = RelyingParty(
        issuer=issuer,
        origin=origin,
        client_id=app["client"]["id"],
        client_secret=app["clientSecret"],
        resource_server=(api["client"]["id"], api["clientSecret"]),
    )
    return rp, secret


def walk(rp: RelyingParty, code: str) -> dict[str, Any]:
    result = subprocess.run(
        ["node", "check_oidc_rp.mjs", rp.origin, EMAIL, PASSWORD, code],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    lines = result.stdout.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if result.returncode != 0 or report.get("problems") or "againUrl" not in report:
        pytest.fail(json.dumps(report, indent=1) + "\n" + result.stderr[-2000:], pytrace=False)
    return report


def test_a_server_side_relying_party_from_sign_in_to_logout(
    registered: tuple[RelyingParty, str],
) -> None:
    rp, secret = registered
    # The next step's code: the enrollment spent this one, and ±1 step is accepted.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    with serving(rp):
        report = walk(rp, code)
    issuer, steps = rp.issuer, report["steps"]
    assert report["signInUrl"] == f"{issuer}/oauth2/login"
    assert report["consentHeading"] == "Allow Notebook to use your account?"
    assert report["consentItems"] == [
        "Your email address", "Stay signed in to it when you are away", "Know who you are",
        "Your name",
    ]  # fmt: skip
    for path in ("/oauth2/login", "/oauth2/consent"):
        policy = report["csp"][path]
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert f"form-action 'self' {rp.origin}" in policy

    callback = steps["callback"]
    claims = callback["idToken"]  # as authlib verified it through discovery + JWKS
    assert claims["iss"] == issuer
    assert claims["aud"] == rp.client_id
    assert claims["nonce"] == callback["nonceSent"]
    assert claims["email"] == EMAIL
    assert claims["amr"] == ["pwd", "otp"]
    # idpyoidc verified the same token (signature, iss, aud, nonce, at_hash) alike.
    assert callback["idpyoidc"]["sub"] == claims["sub"]
    assert callback["idpyoidc"]["nonce"] == claims["nonce"]
    assert callback["idpyoidc"]["at_hash"] == claims["at_hash"]
    assert callback["userinfo"] == {
        "sub": claims["sub"], "email": EMAIL, "email_verified": True, "name": "Grace Hopper",
    }  # fmt: skip

    refresh = steps["refresh"]
    assert refresh["newAccessToken"] is True
    assert refresh["newRefreshToken"] is True
    assert refresh["userinfo"]["sub"] == claims["sub"]
    assert "idToken" not in refresh  # no new ID token on a refresh (Core §12.2 allows it)

    before = steps["introspectBefore"]
    assert before["access"]["active"] is True
    assert before["access"]["client_id"] == rp.client_id
    assert before["access"]["sub"] == claims["sub"]
    assert before["refresh"]["active"] is True
    assert before["refresh"]["exp"] > before["access"]["exp"]
    assert "iat" not in before["refresh"]  # unknown for a refresh token, so not 0 (1970)
    assert before["previousRefresh"] == {"active": False}  # rotated
    assert steps["revoke"] == {"status": 200, "userinfoStatus": 401}
    after = steps["introspectAfter"]
    assert after["access"] == {"active": False}
    assert after["refresh"]["active"] is True  # revoking an access token ends only it

    # Logout: the RP's /logout, Gatehouse's end-session endpoint, the registered URI.
    logout = report["requests"].index(f"GET {rp.origin}/logout")
    assert report["requests"][logout : logout + 3] == [
        f"GET {rp.origin}/logout",
        f"GET {issuer}/oauth2/logout",
        f"GET {rp.origin}{AFTER_LOGOUT}",
    ]
    assert steps["afterLogout"] == {
        "stateChecked": True,
        "refresh": {"active": False},
        "refreshGrant": "invalid_grant",
    }
    # A new sign-in is asked for: the provider's session is over.
    assert report["againUrl"] == f"{issuer}/oauth2/login"
    assert report["requests"][report["requests"].index("-- again") :] == [
        "-- again",
        f"GET {rp.origin}/login",
        f"GET {issuer}/oauth2/authorize",
        f"GET {issuer}/oauth2/login",
    ]
