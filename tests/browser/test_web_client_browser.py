"""clients/web/ in several tabs of headless Chromium against the real server (issue 16).

The tabs are pages of one browser context, so they share Web Locks and BroadcastChannel
as tabs of one browser profile do. The page is served by a small static server of this
test (another origin than Gatehouse, as a frontend is), allowed by GATEHOUSE_CORS_ORIGINS.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ServiceUrls
from tests.support.processes import create_account, gatehouse_env, start_api

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WEB = ROOT / "clients" / "web"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "lantern orchard pebble 4471"
LOGIN = """mutation($e: String!, $p: String!) {
  login(email: $e, password: $p) { __typename ... on AuthPayload { accessToken } } }"""
ACCOUNT = """{ mySecurityEvents(first: 100) { event }
  mySessions { id } }"""


def _npm_ci(where: Path, marker: Path) -> None:
    if marker.exists():
        return
    installed = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]


@pytest.fixture(scope="module")
def browser_tools() -> None:
    if shutil.which("node") is None or not Path(CHROMIUM).exists():
        pytest.skip("Node.js or Debian's chromium is missing (scripts/bootstrap.sh installs it)")
    _npm_ci(HERE, HERE / "node_modules" / "playwright-core")
    _npm_ci(WEB, WEB / "node_modules" / ".bin" / "tsc")
    built = subprocess.run(
        [str(WEB / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.json"],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout[-3000:]


class _PageFiles(SimpleHTTPRequestHandler):
    """The test page, and the client bundle under /client/."""

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if path.startswith("/client/"):
            return str(WEB / "dist" / path.removeprefix("/client/"))
        return str(HERE / "web_client" / path.lstrip("/"))

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    handler = functools.partial(_PageFiles, directory=str(HERE / "web_client"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def api(
    service_urls: ServiceUrls,
    database_name: str,
    page_origin: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, str], Path]]:
    env = gatehouse_env(
        {
            "GATEHOUSE_ENVIRONMENT": "test",
            "GATEHOUSE_MONGODB_URL": service_urls.mongodb_url,
            "GATEHOUSE_MONGODB_DATABASE": database_name,
            "GATEHOUSE_REDIS_URL": service_urls.redis_url,
            "GATEHOUSE_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "GATEHOUSE_CORS_ORIGINS": page_origin,
            "GATEHOUSE_LOG_LEVEL": "INFO",
        }
    )
    log = tmp_path_factory.mktemp("logs") / "api.log"
    process, port = start_api(env, log)
    yield f"http://127.0.0.1:{port}/graphql", env, log
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def _account(env: dict[str, str], email: str) -> None:
    created = create_account(env, email, PASSWORD, role="student")
    assert created.returncode == 0, created.stderr


def _tabs(
    scenario: str,
    api: tuple[str, dict[str, str], Path],
    origin: str,
    email: str,
    *,
    lock: bool = True,
) -> dict[str, Any]:
    url, env, _ = api
    _account(env, email)
    page = f"{origin}/index.html?api={quote(url, safe='')}" + ("" if lock else "&lock=off")
    result = subprocess.run(
        ["node", "check_web_client.mjs", scenario, page, url, email, PASSWORD],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=180,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    lines = result.stdout.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    if result.returncode != 0 or report.get("problems"):
        pytest.fail(json.dumps(report, indent=1) + "\n" + result.stderr[-2000:], pytrace=False)
    return report


def _server_view(url: str, email: str) -> dict[str, Any]:
    """The account as the server records it, read from another device."""
    with httpx.Client() as http:
        login = http.post(url, json={"query": LOGIN, "variables": {"e": email, "p": PASSWORD}})
        token = login.json()["data"]["login"]["accessToken"]
        answer = http.post(
            url, json={"query": ACCOUNT}, headers={"authorization": f"Bearer {token}"}
        )
    data: dict[str, Any] = answer.json()["data"]
    return data


def _refreshes_logged(log: Path) -> int:
    """Refresh operations the server answered, from its access log."""
    return len(re.findall(r"POST Refresh \d{3}", log.read_text(errors="replace")))


def _assert_one_session_kept(report: dict[str, Any], url: str, email: str) -> None:
    assert all(answer == f"ok:{email}" for answer in report["me"]), report["me"]
    assert report["signedOut"] == [None] * len(report["me"])
    assert len(report["refreshTokens"]) == 1, "every tab holds the same pair"
    assert report["refreshTokens"] != [report["loginRefreshToken"]]
    view = _server_view(url, email)
    events = [event["event"] for event in view["mySecurityEvents"]]
    assert not [e for e in events if "reuse" in e], events
    assert report["sessionId"] in {session["id"] for session in view["mySessions"]}


def test_tabs_refreshing_together_rotate_once_and_stay_signed_in(
    browser_tools: None, api: tuple[str, dict[str, str], Path], page_origin: str
) -> None:
    email = "tabs.together@example.com"
    logged = _refreshes_logged(api[2])
    report = _tabs("together", api, page_origin, email)
    assert report["refreshOutcomes"] == ["ok"] * 4
    assert report["refreshRequests"] == 1, "one tab refreshes; the others adopt its pair"
    assert _refreshes_logged(api[2]) - logged == 1
    _assert_one_session_kept(report, api[0], email)


def test_a_revocation_elsewhere_signs_every_tab_out_within_a_second(
    browser_tools: None, api: tuple[str, dict[str, str], Path], page_origin: str
) -> None:
    report = _tabs("revoked", api, page_origin, "tabs.revoked@example.com")
    assert report["sessionsEnded"] == 2
    assert report["signedOut"] == ["revoked"] * 4
    assert max(report["signedOutAfterMs"]) < 1000, report["signedOutAfterMs"]
    assert all(answer.startswith("SignedOutError") for answer in report["me"]), report["me"]


def test_without_the_lock_the_server_grace_keeps_every_tab_signed_in(
    browser_tools: None, api: tuple[str, dict[str, str], Path], page_origin: str
) -> None:
    email = "tabs.nolock@example.com"
    report = _tabs("together", api, page_origin, email, lock=False)
    assert report["refreshOutcomes"] == ["ok"] * 4
    assert report["refreshRequests"] >= 2, "without the lock several tabs present the token"
    _assert_one_session_kept(report, api[0], email)


def test_a_lost_refresh_answer_is_retried_through_the_grace_window(
    browser_tools: None, api: tuple[str, dict[str, str], Path], page_origin: str
) -> None:
    email = "tabs.lost@example.com"
    report = _tabs("lost", api, page_origin, email)
    assert report["refreshOutcomes"] == ["ok"] * 4
    # The dropped answer, then its retry; a tab granted the lock before the new pair's
    # broadcast reached it may present the token once more (the grace answers it too).
    assert 2 <= report["refreshRequests"] <= 4, report["refreshRequests"]
    _assert_one_session_kept(report, api[0], email)
