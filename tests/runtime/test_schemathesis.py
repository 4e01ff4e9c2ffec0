"""Schemathesis against a running server: the REST routes from /api/openapi.json.

(The GraphQL schema is fuzzed in tests/fuzz with hypothesis-graphql, which can also
log in as an admin; schemathesis' GraphQL mode counts every permission refusal as a
server error.) The same command runs by hand, see README "Fuzzing".
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ServiceUrls
from tests.support.processes import ROOT, gatehouse_env, start_api

pytestmark = pytest.mark.slow


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
            "GATEHOUSE_RATE_LIMITS_ENABLED": "false",
            "GATEHOUSE_LOG_LEVEL": "WARNING",
        }
    )
    process, port = start_api(env, tmp_path_factory.mktemp("logs") / "api.log")
    yield port
    process.terminate()
    process.wait(timeout=20)


def test_rest_routes_hold_under_schemathesis(api_port: int, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            "schemathesis",
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            f"http://127.0.0.1:{api_port}/api/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "No issues found" in result.stdout, result.stdout[-3000:]
