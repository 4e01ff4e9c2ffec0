"""The complete export: a person who used every feature (tests/privacy/seed.py) downloads
their archive, and every collection of the personal data map that exports something is
in it with that person's records (as many as the database holds for them), the profile
with its location history, the emails to every address they had or asked for, and no
secret they were shown nor any field the data map keeps out (hashes, sealed secrets,
public keys, provider tokens).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from domain.core.clock import FrozenClock
from domain.core.settings import Settings
from domain.identity import repository as user_repository
from domain.privacy.data_map import PERSONAL_DATA
from domain.privacy.subjects import PersonKeys
from tests.privacy.seed import (
    ABROAD_IP,
    IP,
    LEGACY_TEMPLATE,
    SECOND_IP,
    SEED_CLOCK_START,
    Addresses,
    app_overrides,
    seed_the_person,
)
from tests.privacy.staff import ADMIN_AGENT, ADMIN_IP
from tests.privacy.support import export_files
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox

CLOCK_START = SEED_CLOCK_START
ADDRESSES = Addresses.tagged("export")
# Written by the job after it built the archive: not in it.
_AFTER_THE_ARCHIVE = {"email_messages", "audit_events"}
# What the data map keeps out of every export (test_data_map.py checks the field lists).
_NEVER_SHOWN = ("password_hash", "password_history", "secret", "public_key", "sealed", "$argon2")


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings], mail_inbox: MailInbox) -> Settings:
    return make_settings(**app_overrides(mail_inbox))


@pytest.fixture(scope="module")
async def manager(
    settings: Settings,
    app_with: AppWith,
    clock: FrozenClock,
    mail_inbox: MailInbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LifespanManager]:
    with running_worker(settings, tmp_path_factory.mktemp("worker") / "worker.log"):
        async with app_with(clock=clock, **app_overrides(mail_inbox)) as app:
            yield app


async def _stored_counts(settings: Settings, user_id: str) -> dict[str, int]:
    """The person's records per exported collection, found as the export finds them."""
    user = await user_repository.get(user_id)
    assert user is not None
    subject = PersonKeys(settings).subject(user)
    counts = {}
    for entry in PERSONAL_DATA:
        if entry.find is not None and entry.export:
            counts[entry.collection] = await entry.model.get_pymongo_collection().count_documents(
                entry.find(subject)
            )
    return counts


async def test_the_archive_holds_every_kind_of_the_persons_data_and_no_secret(
    manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock, settings: Settings
) -> None:
    seeded = await seed_the_person(manager, mail_inbox, clock, ADDRESSES)
    async with asgi_client(manager) as client:
        response = await client.get("/api/privacy/export", params={"token": seeded.export_token})
    assert response.status_code == 200, response.text
    assert export_files(settings) == []
    records: dict[str, list[dict[str, Any]]] = response.json()["records"]

    stored = await _stored_counts(settings, seeded.user_id)
    assert set(records) == set(stored)
    for collection, count in stored.items():
        if collection in _AFTER_THE_ARCHIVE:
            assert 0 < len(records[collection]) <= count, collection
        else:
            assert len(records[collection]) == count, (collection, count, records[collection])
    # Every kind of data the seed made reached the archive (not only an empty list).
    for collection in (
        "users",
        "sessions",
        "refresh_rotations",
        "action_tokens",
        "trusted_devices",
        "totp_credentials",
        "backup_codes",
        "passkeys",
        "social_identities",
        "oauth_consents",
        "api_keys",
        "impersonations",
        "audit_events",
        "webhook_events",
        "email_messages",
    ):
        assert records.get(collection), (collection, sorted(c for c in records if records[c]))

    (profile,) = records["users"]
    assert profile["email"] == ADDRESSES.email
    assert profile["known_countries"] == ["DE"]
    assert profile["last_country"] == "DE"
    assert profile["last_country_at"]
    assert "password_breached_at" in profile
    assert {s["ip"] for s in records["sessions"]} >= {IP, SECOND_IP, ABROAD_IP}
    sent = {(m["to"], m["template"]) for m in records["email_messages"]}
    assert {
        (ADDRESSES.former, "verify_email"),
        (ADDRESSES.former, "email_change_notice"),
        (ADDRESSES.email, "email_change_confirm"),
        (ADDRESSES.pending, "email_change_confirm"),
        (ADDRESSES.email, "email_change_notice"),
        (ADDRESSES.email, LEGACY_TEMPLATE),
    } <= sent
    waiting = [t["new_email"] for t in records["action_tokens"] if "new_email" in t]
    assert waiting == [ADDRESSES.pending]

    text = response.text
    shown_secrets = (
        seeded.totp_secret,
        seeded.api_key,
        *seeded.backup_codes,
        seeded.access_token,
        seeded.export_token,
    )
    for secret in shown_secrets:
        assert secret not in text
    for field in _NEVER_SHOWN:
        assert field not in text, field
    for trace in (ADMIN_IP, ADMIN_AGENT, seeded.admin_id):
        assert trace not in text
