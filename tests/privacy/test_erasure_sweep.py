"""The erasure proof: a person who used every feature (tests/privacy/seed.py) is
deleted, the grace period passes, the sweep runs, and then no collection in the database
holds their email (the current one, the one they had before, the one they asked for and
never confirmed), their name, their IP addresses or those addresses' networks, and no
Redis key under the app's prefix holds an address of theirs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from bson import json_util
from redis.asyncio import Redis

from domain.core.clock import FrozenClock
from domain.core.redis import create_redis
from domain.core.settings import Settings
from domain.identity import repository as user_repository
from domain.impersonation.documents import ImpersonationRecord
from domain.privacy.subjects import PersonKeys
from domain.webhooks.documents import WebhookDelivery, WebhookEvent
from tests.api.identity_ops import call
from tests.privacy.seed import (
    ABROAD_IP,
    FIRST,
    IP,
    LAST,
    LEGACY_TEMPLATE,
    NETWORKS,
    SECOND_IP,
    SEED_CLOCK_START,
    Addresses,
    app_overrides,
    seed_the_person,
)
from tests.privacy.support import DELETE_ME, answer, export_files
from tests.support.asgi import AppWith, LifespanManager, asgi_client
from tests.support.processes import running_worker
from tests.support.smtp import MailInbox

CLOCK_START = SEED_CLOCK_START
ADDRESSES = Addresses.tagged("erasure")


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


async def _holders(manager: LifespanManager) -> dict[str, list[str]]:
    """Every collection of the database, every document: which hold a trace."""
    traces = {"first name": FIRST.lower(), "last name": LAST.lower()}
    traces |= {"email": ADDRESSES.email, "former email": ADDRESSES.former}
    traces |= {"pending email": ADDRESSES.pending}
    traces |= {"ip": IP, "second ip": SECOND_IP, "ip abroad": ABROAD_IP}
    traces |= {f"network {network}": network for network in NETWORKS}
    database = manager.state.database
    found: dict[str, list[str]] = {}
    for name in await database.list_collection_names():
        async for document in database[name].find():
            text = json_util.dumps(document).lower()
            for what, value in traces.items():
                if value in text:
                    found.setdefault(name, []).append(f"{what}: {text[:300]}")
    return found


async def _value(redis: Redis, key: str) -> object:
    """A key's value read as its type is read (DUMP may compress it)."""
    kind = await redis.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    readers: dict[str, Callable[[str], Awaitable[object]]] = {
        "string": redis.get,
        "hash": redis.hgetall,
        "list": lambda k: redis.lrange(k, 0, -1),
        "set": redis.smembers,
        "zset": lambda k: redis.zrange(k, 0, -1),
        "stream": redis.xrange,
    }
    reader = readers.get(kind)
    return await reader(key) if reader is not None else ""


async def _redis_holders(settings: Settings) -> list[str]:
    """Every Redis key under the app's prefix, name and value: which hold an address of
    the person's. (The refresh copies hold a rotation's IP network until they expire,
    an access token's life: they name no address, and the sessions they copy are gone.)"""
    addresses = (ADDRESSES.email, ADDRESSES.former, ADDRESSES.pending)
    redis = create_redis(settings)
    found = []
    try:
        async for raw in redis.scan_iter(match=f"{settings.redis_key_prefix}*", count=500):
            key = raw.decode() if isinstance(raw, bytes) else raw
            text = f"{key} {await _value(redis, key)}".lower()
            found += [f"{key}: {a}" for a in addresses if a in text]
    finally:
        await redis.aclose()
    return found


async def test_after_erasure_no_collection_holds_the_persons_email_name_or_ip(
    manager: LifespanManager, mail_inbox: MailInbox, clock: FrozenClock, settings: Settings
) -> None:
    seeded = await seed_the_person(manager, mail_inbox, clock, ADDRESSES)
    user_id = seeded.user_id
    async with asgi_client(manager, client=(ABROAD_IP, 5002)) as person:
        body = await call(person, DELETE_ME, token=seeded.access_token)
        deleted = answer(body, "deleteMyAccount")
        assert deleted["__typename"] == "AccountDeletionScheduled", deleted
        # This module keeps the default grace period: 14 days.
        erase_after = datetime.fromisoformat(deleted["eraseAfter"])
        assert erase_after == clock.now() + timedelta(days=14)
        await mail_inbox.wait_for(ADDRESSES.email, "will be deleted")
    before = await _holders(manager)
    # The seed reached the collections the proof is about (the remembered devices ended
    # with the sessions when the account was deleted).
    for collection in (
        "users",
        "sessions",
        "audit_events",
        "email_messages",
        "social_identities",
        "webhook_events",
        "action_tokens",  # the pending address
        "refresh_rotations",  # the network
    ):
        assert collection in before, (collection, sorted(before))
    for trace in ("former email", "pending email"):
        assert any(t.startswith(trace) for t in before["email_messages"]), trace
    assert any(LEGACY_TEMPLATE in t for t in before["email_messages"])  # one without user_id
    assert any(t.startswith("network") for t in before["refresh_rotations"])
    person = await user_repository.get(user_id)
    assert person is not None
    assert (person.known_countries, person.last_country) == (["DE"], "DE")
    assert await ImpersonationRecord.find({"user_id": user_id}).count() == 1
    # An administrator looking at the deleted account caches it (its address with it): the
    # Redis scan below finds what it is meant to find.
    assert await manager.state.services.users.get(user_id) is not None
    assert [k.split(": ")[1] for k in await _redis_holders(settings)] == [ADDRESSES.email]
    assert await WebhookDelivery.find_all().count() > 0
    assert export_files(settings)

    clock.advance(timedelta(days=settings.account_deletion_grace_days, seconds=1))
    assert await manager.state.services.privacy.erasure.erase_due() == 1

    assert await _holders(manager) == {}
    assert await _redis_holders(settings) == []
    assert export_files(settings) == []
    # Other services are told to erase theirs: user.deleted, marked as the erasure.
    told = await WebhookEvent.find({"type": "user.deleted", "data.user_id": user_id}).to_list()
    assert [event.data.get("erased") for event in told] == [True]
    # The audit trail keeps what happened, by a pseudonymous actor that leads nowhere.
    pseudonym = PersonKeys(settings).pseudonym(user_id)
    trail = await manager.state.database["audit_events"].count_documents({"actor_id": pseudonym})
    assert trail > 5
