"""The first administrator from the command line (scripts/create_admin.py), against the
real FerretDB: its password meets the policy and the breached-password lists, as every
new password does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.build_breached_filter import compile_list
from tests.conftest import ServiceUrls
from tests.support.processes import gatehouse_env

ROOT = Path(__file__).resolve().parents[2]
LEAKED = "copper harbour whistle 9043"
FRESH = "granite meadow lantern 7719"


@pytest.fixture(scope="module")
def env(
    service_urls: ServiceUrls, database_name: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    lists = tmp_path_factory.mktemp("lists")
    (lists / "leaked.txt").write_text(f"{LEAKED}\n")
    compile_list(lists / "leaked.txt", lists / "leaked.bloom")
    return gatehouse_env(
        {
            "GATEHOUSE_ENVIRONMENT": "test",
            "GATEHOUSE_MONGODB_URL": service_urls.mongodb_url,
            "GATEHOUSE_MONGODB_DATABASE": database_name,
            "GATEHOUSE_REDIS_URL": service_urls.redis_url,
            "GATEHOUSE_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "GATEHOUSE_BREACHED_PASSWORD_LIST_PATH": str(lists / "leaked.bloom"),
        }
    )


def create_admin(
    env: dict[str, str], email: str, password: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "scripts/create_admin.py",
            "--email",
            email,
            "--first-name",
            "Ada",
            "--last-name",
            "Admin",
        ],
        cwd=ROOT,
        env={**env, "GATEHOUSE_ADMIN_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_listed_password_is_refused_and_nothing_is_created(env: dict[str, str]) -> None:
    refused = create_admin(env, "leaked.admin@example.com", LEAKED)
    assert refused.returncode == 2
    assert "password: This password appears in a list of passwords exposed" in refused.stderr
    assert "Traceback" not in refused.stderr
    again = create_admin(env, "leaked.admin@example.com", FRESH)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("created super_admin leaked.admin@example.com")
