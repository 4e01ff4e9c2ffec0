"""The GraphiQL admin console in headless Chromium against the real server (issue 22).

The server runs as production does where it matters here: introspection for
administrators only, a second factor required of the admin's role, and the shortest
access-token lifetime allowed (60 s). check_graphiql_admin.mjs signs in with the panel
(password, then a TOTP code), runs the users page from the first ready-made tab, waits
until that first access token has expired (about a minute: the panel's own refresh at
80 % of the lifetime must have replaced it) and runs it again, signs out and sees the
next admin query refused.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from domain.core.settings import Settings
from tests.api.identity_ops import PASSWORD
from tests.browser.test_web_client_browser import CHROMIUM, _npm_ci
from tests.oauth.inprocess import BEGIN_TOTP, CONFIRM_TOTP
from tests.support.processes import create_account, settings_env, start_api

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
ADMIN = "console.admin@example.com"
USERS = "query { users(first: 5) { edges { node { email } } } }"
LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { ... on AuthPayload { accessToken } } }"""


@pytest.fixture(scope="module")
def server(
    make_settings: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is missing (scripts/bootstrap.sh installs it)")
    _npm_ci(HERE, HERE / "node_modules" / "playwright-core")
    settings = make_settings(
        introspection="admin",
        mfa_required_roles="admin,super_admin",
        access_token_ttl_seconds=60,
        # The panel's sign-in goes through the same limits as any sign-in.
        rate_limits_enabled=True,
        log_level="INFO",
    )
    env = settings_env(settings)
    process, port = start_api(env, tmp_path_factory.mktemp("console") / "api.log")
    try:
        yield f"http://127.0.0.1:{port}/graphql", env
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def totp_secret(server: tuple[str, dict[str, str]]) -> str:
    """An admin with TOTP enrolled (through GraphQL), and two more accounts to list."""
    url, env = server
    accounts = ((ADMIN, "admin"), ("ann@example.com", "student"), ("bo@example.com", "instructor"))
    for email, role in accounts:
        created = create_account(env, email, PASSWORD, role=role)
        assert created.returncode == 0, created.stderr
    with httpx.Client(base_url=url.removesuffix("/graphql")) as http:
        token = _password_sign_in(http, ADMIN)
        begun = _post(http, BEGIN_TOTP, {}, token)
        secret = str(begun["data"]["beginTotpEnrollment"]["secret"])
        confirmed = _post(http, CONFIRM_TOTP, {"code": pyotp.TOTP(secret).now()}, token)
    assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
    return secret


def _post(http: httpx.Client, query: str, variables: dict[str, Any], token: str) -> Any:
    answer = http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"} if token else {},
    )
    return answer.json()


def _password_sign_in(http: httpx.Client, email: str) -> str:
    """The access token of a password-only sign-in (before the admin has a second factor)."""
    body = _post(http, LOGIN, {"email": email, "password": PASSWORD}, "")
    return str(body["data"]["login"]["accessToken"])


def test_an_admin_signs_in_works_through_expiry_and_signs_out_in_graphiql(
    server: tuple[str, dict[str, str]], totp_secret: str, tmp_path: Path
) -> None:
    url, _ = server
    # The next step's code: the enrollment spent this one, and ±1 step is accepted.
    code = pyotp.TOTP(totp_secret).at(time.time() + 30)
    shot = tmp_path / "console.png"
    result = subprocess.run(
        ["node", "check_graphiql_admin.mjs", url, ADMIN, PASSWORD, code, str(shot)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=240,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    lines = result.stdout.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if result.returncode != 0 or report.get("problems"):
        pytest.fail(json.dumps(report, indent=1) + "\n" + result.stderr[-2000:], pytrace=False)

    assert "script-src 'self'" in report["csp"]
    assert "unsafe" not in report["csp"]
    # Anonymous: no schema; the first tab is the users page; the explorer is there.
    assert "administrators only" in report["anonymousSchema"]
    assert report["tabs"][0].startswith("UsersPage"), report["tabs"]
    assert len(report["tabs"]) >= 8
    assert report["explorer"]
    assert report["labels"] == ["Email", "Password"]
    # Password, then the TOTP step, then the schema with the token.
    assert report["signInOperations"][:3] == [
        "IntrospectionQuery",
        "GatehouseConsoleLogin",
        "GatehouseConsoleSecondFactor",
    ]
    assert report["signedInAs"] == ADMIN
    assert report["role"] == "ADMIN"
    assert report["firstRows"] == 3
    assert report["firstVariables"]["filter"]["status"] == "ACTIVE"  # the tab's examples
    # After the first token's expiry, the same tab runs again with a refreshed token.
    assert report["firstTokenExpired"]
    assert report["tokenChanged"]
    assert report["secondErrors"] is None
    assert report["secondRows"] == 3
    assert report["refreshes"]
    assert set(report["refreshes"]) == {"AuthPayload"}
    assert report["stillSignedIn"] == ADMIN
    # Signed out: ended on the server, the next query goes without a token and is refused.
    assert report["logout"] == [{"sessionsEnded": 1}]
    assert "Signed out" in report["signedOutNotice"]
    assert report["afterSignOut"]["sentToken"] is None
    assert report["afterSignOut"]["codes"] == ["UNAUTHENTICATED"]
    with httpx.Client(base_url=url.removesuffix("/graphql")) as http:
        refused = _post(http, USERS, {}, report["lastToken"])
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", refused
    # Nothing left behind: no token, refresh token, challenge, code or password stored.
    storage = report["storage"]
    assert storage["leaks"] == [], storage
    assert not storage["jwtLike"], storage
    assert storage["sessionKeys"] == [], storage
    assert storage["indexedDB"] == [], storage
    assert storage["cookies"] == 0, storage
    assert storage["secretsChecked"] >= 6
    assert shot.stat().st_size > 10_000
