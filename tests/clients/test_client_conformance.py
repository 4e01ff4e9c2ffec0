"""The GraphQL clients frontends use, against a real Gatehouse (uvicorn, FerretDB, Redis).

``conformance.mjs`` drives Apollo Client 4 (queries, union mutations through possibleTypes,
error codes from ``errors[]`` and from 4xx answers, the persisted-queries link), urql with
its defaults (queries over GET), graphql-ws with the ``ws`` package (a token in
``connectionParams``, a live event triggered over HTTP, 4401 after logout, no retry on
4401/4403) and the GraphQL-over-HTTP audits of the ``graphql-http`` package (no warning
allowed). Node packages come from ``package-lock.json`` into ``node_modules`` on first run;
without Node the module is skipped with a message.
"""

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

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def node_packages() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js is not installed: the client conformance suite cannot run here")
    wanted = ("@apollo/client", "@urql/core", "graphql-ws", "graphql-http", "ws")
    if not all((HERE / "node_modules" / name).exists() for name in wanted):
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert installed.returncode == 0, installed.stderr[-2000:]


@pytest.fixture(scope="module")
def graphql_url(
    service_urls: ServiceUrls, database_name: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = gatehouse_env(
        {
            "GATEHOUSE_ENVIRONMENT": "test",
            "GATEHOUSE_MONGODB_URL": service_urls.mongodb_url,
            "GATEHOUSE_MONGODB_DATABASE": database_name,
            "GATEHOUSE_REDIS_URL": service_urls.redis_url,
            "GATEHOUSE_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "GATEHOUSE_LOG_LEVEL": "WARNING",
            # The scripts sign in without reading the verification email.
            "GATEHOUSE_ALLOW_UNVERIFIED_LOGIN": "true",
            # Low enough that a small query shows a request error (QUERY_TOO_DEEP).
            "GATEHOUSE_GRAPHQL_MAX_DEPTH": "2",
        }
    )
    process, port = start_api(env, tmp_path_factory.mktemp("logs") / "api.log")
    yield f"http://127.0.0.1:{port}/graphql"
    process.terminate()
    process.wait(timeout=20)


@pytest.mark.parametrize("scenario", ["apollo", "persisted", "urql", "graphql-ws", "audits"])
def test_client(node_packages: None, graphql_url: str, scenario: str) -> None:
    result = subprocess.run(
        ["node", "conformance.mjs", scenario, graphql_url],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = result.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines else {}
    assert result.returncode == 0, (report, result.stderr[-2000:])
    assert report["problems"] == []
    print(scenario, json.dumps(report["facts"]))
