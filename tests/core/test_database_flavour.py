"""The database flavour: detected from the real server's ``buildInfo``, or set.

The session runs on FerretDB (``make test``'s first leg) or SecantusDB (its second leg,
``GATEHOUSE_TEST_MONGO=secantusdb``); detection must name the one that is running, so
the FerretDB workarounds run on FerretDB and the plain-MongoDB paths everywhere else.
"""

from __future__ import annotations

import pytest
import services
from pymongo import AsyncMongoClient

from domain.core.database_flavour import (
    DatabaseFlavour,
    FlavourSetting,
    flavour_of_build_info,
    resolve_flavour,
)
from domain.core.settings import Settings


def expected(
    ferretdb: services.Service | None, secantusdb: services.Service | None
) -> DatabaseFlavour:
    if ferretdb is not None:
        return DatabaseFlavour.FERRETDB
    if secantusdb is not None:
        return DatabaseFlavour.MONGODB
    pytest.skip("MONGODB_URL names an outside server: no flavour to expect")


async def test_auto_detection_names_the_server_the_session_runs_on(
    settings: Settings,
    ferretdb_service: services.Service | None,
    secantusdb_service: services.Service | None,
) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        settings.mongodb_url.get_secret_value(), serverSelectionTimeoutMS=5000
    )
    try:
        database = client[settings.mongodb_database]
        detected = await resolve_flavour(database, FlavourSetting.AUTO)
        assert detected is expected(ferretdb_service, secantusdb_service)
        # A setting overrides what the server says, either way.
        assert await resolve_flavour(database, FlavourSetting.MONGODB) is DatabaseFlavour.MONGODB
        forced = await resolve_flavour(database, FlavourSetting.FERRETDB)
        assert forced is DatabaseFlavour.FERRETDB
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("build_info", "flavour"),
    [
        ({"version": "7.0.42", "ferretdbVersion": "v1.24.2"}, DatabaseFlavour.FERRETDB),
        ({"version": "8.2.11", "secantusVersion": "0.7.0b3"}, DatabaseFlavour.MONGODB),
        ({"version": "8.0.4", "gitVersion": "abc"}, DatabaseFlavour.MONGODB),
    ],
)
def test_build_info_keys_decide(build_info: dict[str, object], flavour: DatabaseFlavour) -> None:
    assert flavour_of_build_info(build_info) is flavour


def test_the_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_DATABASE_FLAVOUR", "ferretdb")
    assert Settings(_env_file=None).database_flavour is FlavourSetting.FERRETDB  # type: ignore[call-arg]
    monkeypatch.setenv("GATEHOUSE_DATABASE_FLAVOUR", "postgres")
    with pytest.raises(ValueError, match="database_flavour"):
        Settings(_env_file=None)  # type: ignore[call-arg]
