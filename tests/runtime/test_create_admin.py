"""The first administrator from the command line (scripts/create_admin.py), against the
real FerretDB: its password meets the policy and the breached-password lists, as every
new password does."""

from __future__ import annotations

import pytest

from scripts.build_breached_filter import compile_list
from tests.conftest import ServiceUrls
from tests.support.processes import create_account, gatehouse_env

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


def test_a_listed_password_is_refused_and_nothing_is_created(env: dict[str, str]) -> None:
    refused = create_account(env, "leaked.admin@example.com", LEAKED)
    assert refused.returncode == 2
    assert "password: This password appears in a list of passwords exposed" in refused.stderr
    assert "Traceback" not in refused.stderr
    again = create_account(env, "leaked.admin@example.com", FRESH)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("created super_admin leaked.admin@example.com")
