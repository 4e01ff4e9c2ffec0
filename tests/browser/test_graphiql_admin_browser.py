"""The GraphiQL admin console in headless Chromium against the real server (issue 22).

The server runs as production does where it matters here: introspection for
administrators only, a second factor required of the admin's role, and the shortest
access-token lifetime allowed (60 s). check_graphiql_admin.mjs signs in with the panel
(password, then a TOTP code), runs the users page from the first ready-made tab, waits
until that first access token has expired (about a minute: the panel's own refresh at
80 % of the lifetime must have replaced it) and runs it again, signs out and sees the
next admin query refused.

The second test signs a passkey admin in with the panel's passkey step (Chromium's
virtual authenticator holds the key registered through GraphQL by the software
authenticator), runs the users page, lets the sign-in grow older than the recent-sign-in
limit (lowered to 30 s), sees a role change answered ReauthenticationRequired, answers
"Confirm it's you" with the password and runs the change again.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import services
from cryptography.hazmat.primitives import serialization

from domain.core.settings import Settings
from tests.api.identity_ops import PASSWORD
from tests.browser.test_web_client_browser import CHROMIUM, _npm_ci
from tests.oauth.inprocess import BEGIN_TOTP, CONFIRM_TOTP
from tests.passkeys.support import BEGIN_REGISTRATION, FINISH_REGISTRATION
from tests.support.processes import create_account, settings_env, start_api
from tests.support.webauthn_authenticator import SoftwareAuthenticator

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
ADMIN = "console.admin@example.com"
KEY_ADMIN = "key.admin@example.com"
TARGET = "role.target@example.com"
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
    port = services.free_port()
    settings = make_settings(
        introspection="admin",
        mfa_required_roles="admin,super_admin",
        access_token_ttl_seconds=60,
        # The panel's sign-in goes through the same limits as any sign-in.
        rate_limits_enabled=True,
        # The passkey test's page is http://localhost:<port>/graphql (an IP address is
        # no RP ID); its sign-in is old enough for a role change after 30 s.
        passkey_rp_id="localhost",
        passkey_origins=[f"http://localhost:{port}"],
        reauthentication_max_age_seconds=30,
        log_level="INFO",
    )
    env = settings_env(settings)
    process, port = start_api(env, tmp_path_factory.mktemp("console") / "api.log", port)
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


CONFIRM_TOTP_CODES = """mutation($code: String!) {
  confirmTotpEnrollment(code: $code) { __typename ... on BackupCodes { codes } }
}"""


@pytest.fixture(scope="module")
def passkey_credential(server: tuple[str, dict[str, str]]) -> tuple[dict[str, Any], str]:
    """An admin with a passkey (registered through GraphQL by the software authenticator)
    and TOTP, so the role's second factor applies; the passkey as DevTools'
    ``WebAuthn.Credential``, for Chromium's virtual authenticator. And a student whose
    role the admin changes. With one of the admin's backup codes."""
    url, env = server
    for email, role in ((KEY_ADMIN, "admin"), (TARGET, "student")):
        created = create_account(env, email, PASSWORD, role=role)
        assert created.returncode == 0, created.stderr
    origin = "http://localhost:" + url.removesuffix("/graphql").rsplit(":", 1)[1]
    authenticator = SoftwareAuthenticator(origin=origin)
    with httpx.Client(base_url=url.removesuffix("/graphql")) as http:
        token = _password_sign_in(http, KEY_ADMIN)
        begun = _post(http, BEGIN_REGISTRATION, {}, token)["data"]["beginPasskeyRegistration"]
        assert begun["__typename"] == "PasskeyRegistrationOptions", begun
        credential = authenticator.create(begun["options"])
        variables = {"credential": credential, "name": "Virtual"}
        added = _post(http, FINISH_REGISTRATION, variables, token)
        assert added["data"]["finishPasskeyRegistration"]["__typename"] == "PasskeyAdded", added
        secret = _post(http, BEGIN_TOTP, {}, token)["data"]["beginTotpEnrollment"]["secret"]
        confirmed = _post(http, CONFIRM_TOTP_CODES, {"code": pyotp.TOTP(secret).now()}, token)
    assert confirmed["data"]["confirmTotpEnrollment"]["__typename"] == "BackupCodes"
    backup_code = confirmed["data"]["confirmTotpEnrollment"]["codes"][0]
    (held,) = authenticator.credentials.values()
    pkcs8 = held.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    devtools = {
        "credentialId": base64.b64encode(held.credential_id).decode(),
        "isResidentCredential": True,
        "rpId": "localhost",
        "privateKey": base64.b64encode(pkcs8).decode(),
        "userHandle": base64.b64encode(held.user_handle).decode(),
        "signCount": held.sign_count,
    }
    return devtools, backup_code


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


def test_an_admin_signs_in_with_a_passkey_and_confirms_it_is_them_in_graphiql(
    server: tuple[str, dict[str, str]], passkey_credential: tuple[dict[str, Any], str]
) -> None:
    url, _ = server
    page = url.replace("127.0.0.1", "localhost")
    devtools, backup_code = passkey_credential
    credential = json.dumps(devtools)
    result = subprocess.run(
        [
            "node",
            "check_graphiql_passkey.mjs",
            *(page, KEY_ADMIN, PASSWORD, credential, TARGET, backup_code),
        ],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    lines = result.stdout.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if result.returncode != 0 or report.get("problems"):
        pytest.fail(json.dumps(report, indent=1) + "\n" + result.stderr[-2000:], pytrace=False)

    # Password, then the passkey (the button the panel offers for this account).
    assert report["methods"] == ["totp", "backup_code", "passkey"]
    assert report["signInOperations"][:4] == [
        "IntrospectionQuery",
        "GatehouseConsoleLogin",
        "GatehouseConsolePasskeyOptions",
        "GatehouseConsolePasskey",
    ]
    assert report["signCount"] == [1]
    assert report["signedInAs"] == KEY_ADMIN
    assert report["role"] == "ADMIN"
    assert report["usersPageRows"] >= 2
    # Past the recent-sign-in limit the role change is refused as data, then confirmed.
    assert report["sinceSignInMs"] > 30_000
    refused = report["changeRefused"]
    assert refused["__typename"] == "ReauthenticationRequired", refused
    assert refused["maxAgeSeconds"] == 30
    assert "password" in refused["methods"], refused
    assert report["reauthenticated"]["__typename"] == "Reauthenticated"
    assert "Confirmed" in report["confirmedNotice"]
    assert report["proofCleared"]  # the password is not left in the form
    assert report["reauthTokenSent"]  # the next change carries the new access token
    changed = report["changed"]
    assert changed["__typename"] == "UserUpdated", changed
    assert changed["user"] == {"id": report["targetId"], "email": TARGET, "role": "INSTRUCTOR"}
    # "Confirm with a passkey": the passkey alone proves it (its counter stepped).
    assert report["passkeyReauthenticated"]["__typename"] == "Reauthenticated"
    assert report["passkeyProofOnly"]
    assert report["signCountAfterConfirm"] == [2]
    # "Use a backup code": sent as a backup code, never as a password.
    assert report["backupReauthenticated"]["__typename"] == "Reauthenticated"
    assert report["backupProof"] == {"backupCode": True, "password": False, "code": False}
    # Signed out on the server.
    assert report["logout"] == [{"sessionsEnded": 1}]
    with httpx.Client(base_url=url.removesuffix("/graphql")) as http:
        after = _post(http, USERS, {}, report["lastToken"])
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", after
    storage = report["storage"]
    assert storage["leaks"] == [], storage
    assert not storage["jwtLike"], storage
    assert storage["sessionKeys"] == [], storage
    assert storage["indexedDB"] == [], storage
    assert storage["cookies"] == 0, storage
    assert storage["secretsChecked"] >= 5
