"""The API-key slice at service level, against the real FerretDB the session starts:
a key is stored only as a hash and shown once, carries no scope its creator cannot
grant and no budget above the ceiling, authenticates only while unrevoked, and its
creation and revocation are audited without the secret."""

from __future__ import annotations

import pytest
from beanie import PydanticObjectId

from domain.apikeys.service import ApiKey, ApiKeyService
from domain.audit.documents import AuditEvent
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.errors import ValidationError
from domain.core.roles import Role
from domain.core.secrets import token_hash
from domain.ratelimit.limiter import Rule

ADMIN = Actor(
    user_id="apikey-admin", role=Role.ADMIN, ip="192.0.2.77", user_agent="ua", request_id=None
)
GRANTABLE = ["users:read", "audit:read"]


@pytest.fixture
def created() -> list[tuple[PydanticObjectId, ApiKey]]:
    return []


@pytest.fixture
def api_keys(
    database: None, clock: FrozenClock, created: list[tuple[PydanticObjectId, ApiKey]]
) -> ApiKeyService:
    async def on_created(creator: PydanticObjectId, key: ApiKey) -> None:
        created.append((creator, key))

    return ApiKeyService(clock, AuditService(clock), on_created=on_created, max_rate_limit="100/60")


def field_codes(error: ValidationError) -> dict[str, str]:
    return {f.field: f.code for f in error.field_errors}


async def test_a_key_is_stored_hashed_shown_once_and_authenticates(
    api_keys: ApiKeyService, created: list[tuple[PydanticObjectId, ApiKey]]
) -> None:
    creator = PydanticObjectId()
    record, raw = await api_keys.create(
        actor=ADMIN,
        name="  reporting  ",
        scopes=["users:read", "users:read", "audit:read"],
        rate_limit="50/60",
        created_by=creator,
        grantable=GRANTABLE,
    )
    assert raw.startswith(f"ghk_{record.id}_")
    secret = raw.split("_", 2)[2]
    stored = await ApiKey.get(record.id)
    assert stored is not None
    assert stored.secret_hash == token_hash(secret)
    assert secret not in stored.model_dump_json()
    assert stored.name == "reporting"
    assert stored.scopes == ["audit:read", "users:read"]
    assert [(c, k.id) for c, k in created] == [(creator, record.id)]
    principal = await api_keys.authenticate(raw)
    assert principal is not None
    assert principal.id == record.id
    assert principal.scopes == ("audit:read", "users:read")
    assert principal.rate_limit == Rule("api-key", 50, 60)
    # A wrong secret for a real id, a malformed key, an unknown id: all refused alike.
    assert await api_keys.authenticate(f"ghk_{record.id}_{'A' * 43}") is None
    assert await api_keys.authenticate("ghk_nothex_x") is None
    assert await api_keys.authenticate(f"ghk_{'0' * 16}_{secret}") is None
    event = await AuditEvent.find_one({"event": "apikey.created", "target_id": record.id})
    assert event is not None
    assert event.actor_id == ADMIN.user_id
    assert secret not in event.model_dump_json()


async def test_scopes_beyond_what_the_creator_may_grant_are_refused(
    api_keys: ApiKeyService,
) -> None:
    before = await ApiKey.find_all().count()
    with pytest.raises(ValidationError) as refused:
        await api_keys.create(
            actor=ADMIN,
            name="escalation",
            scopes=["users:read", "users:write"],
            rate_limit=None,
            created_by=None,
            grantable=GRANTABLE,
        )
    assert field_codes(refused.value) == {"scopes": "FORBIDDEN"}
    assert "users:write" in refused.value.field_errors[0].message
    with pytest.raises(ValidationError) as malformed:
        await api_keys.create(
            actor=ADMIN, name="", scopes=["Users Read"], rate_limit=None, created_by=None
        )
    assert field_codes(malformed.value) == {"name": "INVALID", "scopes": "INVALID"}
    assert await ApiKey.find_all().count() == before


async def test_a_budget_above_the_ceiling_is_refused_as_a_rate(api_keys: ApiKeyService) -> None:
    for spec, code in [("101/60", "TOO_HIGH"), ("2/1", "TOO_HIGH"), ("ten/60", "INVALID")]:
        with pytest.raises(ValidationError) as refused:
            await api_keys.create(
                actor=ADMIN, name="budget", scopes=[], rate_limit=spec, created_by=None
            )
        assert field_codes(refused.value) == {"rateLimit": code}, spec
    # The same rate over a longer window is within the ceiling (100 per 60 s).
    record, _ = await api_keys.create(
        actor=ADMIN, name="budget", scopes=[], rate_limit="1000/600", created_by=None
    )
    assert record.rate_limit == "1000/600"


async def test_a_revoked_key_no_longer_authenticates(api_keys: ApiKeyService) -> None:
    record, raw = await api_keys.create(
        actor=ADMIN, name="to revoke", scopes=["users:read"], rate_limit=None, created_by=None
    )
    assert await api_keys.authenticate(raw) is not None
    assert await api_keys.revoke(record.id, ADMIN)
    assert await api_keys.authenticate(raw) is None
    # Revoking twice, or a key that does not exist, changes nothing.
    assert not await api_keys.revoke(record.id, ADMIN)
    assert not await api_keys.revoke("0" * 16, ADMIN)
    revocations = await AuditEvent.find({"event": "apikey.revoked", "target_id": record.id}).count()
    assert revocations == 1
