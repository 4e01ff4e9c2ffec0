"""GraphiQL in a real headless Chromium, served by the real server, with our CSP."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ServiceUrls
from tests.support.processes import gatehouse_env, start_api

HERE = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser_tools() -> None:
    if shutil.which("node") is None or not Path(CHROMIUM).exists():
        pytest.skip("Node.js or Debian's chromium is missing (scripts/bootstrap.sh installs it)")
    if not (HERE / "node_modules" / "playwright-core").exists():
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert installed.returncode == 0, installed.stderr[-2000:]


@pytest.fixture(scope="module")
def api_port(
    service_urls: ServiceUrls, database_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    env = gatehouse_env(
        {
            "GATEHOUSE_ENVIRONMENT": "test",
            "GATEHOUSE_MONGODB_URL": service_urls.mongodb_url,
            "GATEHOUSE_MONGODB_DATABASE": database_name,
            "GATEHOUSE_REDIS_URL": service_urls.redis_url,
            "GATEHOUSE_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "GATEHOUSE_LOG_LEVEL": "WARNING",
        }
    )
    process, port = start_api(env, tmp_path_factory.mktemp("logs") / "api.log")
    yield port
    process.terminate()
    process.wait(timeout=20)


def test_graphiql_runs_a_query_without_csp_violations(
    browser_tools: None, api_port: int, tmp_path: Path
) -> None:
    shot = tmp_path / "graphiql.png"
    result = subprocess.run(
        ["node", "check_graphiql.mjs", f"http://127.0.0.1:{api_port}/graphql", str(shot)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=180,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    report = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout else {}
    assert result.returncode == 0, (report, result.stderr[-2000:])
    assert report["problems"] == []
    assert shot.stat().st_size > 10_000
