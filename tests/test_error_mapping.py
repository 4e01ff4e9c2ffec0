"""Errors mapped once: each resolver declares its domain errors, and they must match its union.

The whole schema is checked (also when it is built, so a mismatch stops the server at
start). Through the API: a mapped error a resolver did not declare is a bug, logged with
its stack and masked as INTERNAL_SERVER_ERROR; an error about the request (an outage)
keeps its top-level code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
import strawberry
from loguru import logger

from domain.core.errors import DependencyUnavailableError, NotFoundError, ValidationError
from domain.core.settings import Settings
from domain.identity.errors import AccountLockedError
from domain.mfa.errors import TotpCodeReplayedError
from domain.passkeys.errors import PasskeyAlreadyRegisteredError, PasskeyCloneSuspectedError
from domain.passwordless.errors import EmailCodeExpiredError
from schema.error_mapping import (
    declared_errors,
    maps_domain_errors,
    schema_fields,
    union_mismatches,
)
from schema.errors import INTERNAL_MESSAGE
from schema.schema import build_schema
from schema.user_errors import USER_ERROR_TYPES, NotFound, ValidationFailed
from tests.support.asgi import app_client

ROOT = Path(__file__).resolve().parents[1]
REGISTER = """
mutation { register(email: "mapped@example.com", password: "correct horse battery",
                    firstName: "A", lastName: "B") { __typename ... on UserError { code } } }"""


def test_every_declared_error_is_a_member_of_its_union(settings: Settings) -> None:
    fields = schema_fields(build_schema(settings))
    assert union_mismatches(fields) == []
    declaring = [name for name, field in fields if declared_errors(field)]
    assert len(declaring) >= 30, declaring


def test_resolvers_do_not_catch_domain_errors_by_hand() -> None:
    """One mapping site: no resolver catches a DomainError to build a union member."""
    for path in (ROOT / "resolvers").glob("*.py"):
        source = path.read_text()
        assert "except DomainError" not in source, path
        assert "schema.user_errors" not in source, path


@strawberry.type
class Done:
    ok: bool


Answer = Annotated[Done | NotFound, strawberry.union("Answer")]
Bare = Annotated[Done | ValidationFailed, strawberry.union("Bare")]


@maps_domain_errors(NotFoundError, ValidationError)
async def declares_too_much() -> Done:
    return Done(ok=True)


async def declares_nothing() -> Done:
    return Done(ok=True)


@strawberry.type
class Probe:
    wider = strawberry.field(resolver=declares_too_much, graphql_type=Answer)
    undeclared = strawberry.field(resolver=declares_nothing, graphql_type=Bare)


def test_a_mismatch_between_declaration_and_union_is_reported() -> None:
    schema = strawberry.Schema(query=Probe)
    problems = union_mismatches(schema_fields(schema))
    assert problems == [
        "Query.wider: declares ValidationError but its union lacks ValidationFailed",
        "Query.undeclared: its union has ['ValidationFailed'] but no @maps_domain_errors",
    ]


def test_an_error_without_a_union_member_cannot_be_declared() -> None:
    with pytest.raises(TypeError, match="DependencyUnavailableError"):
        maps_domain_errors(DependencyUnavailableError)


@pytest.fixture(scope="module")
async def client(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(make_settings()) as http:
        yield http


async def register_while(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> dict[str, Any]:
    """``register`` whose rate-limit check (the first thing it calls) raises ``error``."""

    async def check(*args: Any, **kwargs: Any) -> None:
        raise error

    state = client.app_state  # type: ignore[attr-defined]
    monkeypatch.setattr(state.services.rate_limits, "check", check)
    response = await client.post("/graphql", json={"query": REGISTER})
    body: dict[str, Any] = response.json()
    return body


async def test_an_undeclared_domain_error_is_logged_and_masked(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[str] = []
    sink = logger.add(lambda m: logged.append(str(m)), level="ERROR")
    try:
        body = await register_while(client, monkeypatch, AccountLockedError())
    finally:
        logger.remove(sink)
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["message"] == INTERNAL_MESSAGE
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "AccountLocked" not in str(body)
    assert any("UndeclaredDomainError" in line and "register" in line for line in logged)


async def test_a_declared_error_is_its_union_member(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    invalid = ValidationError([], message="Nope.")
    body = await register_while(client, monkeypatch, invalid)
    assert body["data"]["register"] == {
        "__typename": "ValidationFailed",
        "code": "VALIDATION_FAILED",
    }


async def test_an_outage_inside_a_mutation_stays_a_top_level_error(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = await register_while(client, monkeypatch, DependencyUnavailableError())
    assert body["data"] is None, body
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


def test_mapped_error_codes_are_enum_members_with_unchanged_values() -> None:
    codes = {error.code for error in USER_ERROR_TYPES} | {
        TotpCodeReplayedError.code,
        PasskeyCloneSuspectedError.code,
        PasskeyAlreadyRegisteredError.code,
        EmailCodeExpiredError.code,
    }
    assert all(isinstance(code, StrEnum) for code in codes), codes
    assert {str(code) for code in codes} == {
        "VALIDATION_FAILED", "RATE_LIMITED", "INVALID_CREDENTIALS", "EMAIL_NOT_VERIFIED",
        "ACCOUNT_DISABLED", "INVALID_TOKEN", "INVALID_REFRESH_TOKEN", "REFRESH_TOKEN_REUSED",
        "SESSION_EXPIRED", "EMAIL_TAKEN", "ACCOUNT_LOCKED", "NOT_FOUND", "FORBIDDEN",
        "INVALID_MFA_CODE", "MFA_CODE_REPLAYED", "TOTP_ALREADY_ENABLED",
        "NO_PENDING_ENROLLMENT", "TOTP_NOT_ENABLED", "REAUTHENTICATION_REQUIRED",
        "INVALID_PASSKEY", "PASSKEY_CLONE_SUSPECTED", "PASSKEY_ALREADY_REGISTERED",
        "PASSKEY_CHALLENGE_EXPIRED", "LAST_SIGN_IN_METHOD",
        "INVALID_EMAIL_CODE", "EMAIL_CODE_EXPIRED", "EMAIL_SIGN_IN_DISABLED",
        "SOCIAL_SIGN_IN_FAILED", "SOCIAL_IDENTITY_TAKEN", "SOCIAL_LINK_EXPIRED",
        "LAST_SUPER_ADMIN",
        "PASSWORD_CHANGE_REQUIRED",
    }  # fmt: skip
