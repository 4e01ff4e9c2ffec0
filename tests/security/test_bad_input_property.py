"""Bad input at scale: hostile values in every mutation's arguments, and nothing changes
when the call is refused (ASVS 4.0.3 V5.1.3, V5.1.4, V7.4.1, V13.2.2).

``tests/fuzz/test_graphql_fuzz.py`` sends arbitrary valid *documents* and checks the
answer (no 5xx, no stack, no masked error); its ``check`` is reused here. What this adds:
hostile *values* (arbitrary and pathological unicode, NULs, bidi controls, operator
strings, 100 kB strings, nulls, huge and non-finite numbers, wrong JSON types) sent as
variables to every mutation with arguments, with a snapshot of the database taken before
each call and compared after every refusal: a refused call changes nothing, except that
a wrong password or code is counted (an audit event and the failure counter) as designed.

Hypothesis is derandomised (the same examples every run) and bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
)
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from domain.audit.documents import AuditEvent
from domain.core.claims import Claim
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.documents import DOCUMENT_MODELS
from domain.identity.documents import User
from tests.api.identity_ops import PASSWORD, login
from tests.fuzz.test_graphql_fuzz import check
from tests.security.operations import OPERATIONS, _graphql_field
from tests.support.accounts import staff_account
from tests.support.asgi import LifespanManager

EXAMPLES = 120
# Ending the caller's own sessions is the point of these; they take no hostile text.
SKIPPED = {"logout", "logoutAll"}
MUTATIONS = [
    op
    for op in OPERATIONS
    if op.kind == "mutation" and op.name not in SKIPPED and _graphql_field(op.kind, op.name).args
]
# Refusals that must leave every collection exactly as it was.
STRICT = {
    "ValidationFailed",
    "InvalidToken",
    "NotFound",
    "InvalidRefreshToken",
    "NoPendingEnrollment",
    "TotpNotEnabled",
    "Forbidden",
    "EmailTaken",
    "SessionExpired",
}
# Refusals of a credential guess: counted (audit event, failure counter), nothing else.
COUNTED = {"InvalidCredentials", "InvalidMfaCode", "AccountLocked", "RateLimited"}
# Guards that refuse with a top-level error and audit the refusal (schema/permissions.py).
AUDITED_DENIALS = {"FORBIDDEN", "MFA_REQUIRED"}
FAILURE_FIELDS = {"failed_login_count", "last_failed_login_at", "updated_at"}

NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202e\u0644\u0627",  # right-to-left override, Arabic
    "\U0001d518\U0001d52b\U0001d526",  # mathematical letters
    "Z\u0351\u036b\u0343\u036a\u0302\u036b",  # combining marks
    "\ufeff\u200b\u2060",  # invisible
    '{"$ne": null}',
    "$where",
    "a.b.c",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "%00%0d%0a",
    "\r\nX-Injected: 1",
    "' OR '1'='1",
    "0" * 24,
    "x" * 100_000,
    "é" * 5_000,
    "bystander@example.com",  # a real account, so password checks are reached
    "BYSTANDER@EXAMPLE.COM ",
]
TEXT = st.one_of(st.text(max_size=200), st.sampled_from(NASTY_STRINGS))
ANY_JSON = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),  # includes NaN and infinities, which JSON cannot carry
    TEXT,
    st.lists(TEXT, max_size=3),
    st.dictionaries(st.text(max_size=8), TEXT, max_size=3),
)


def value_for(type_: GraphQLInputType, wrong_types: bool) -> st.SearchStrategy[Any]:
    """A hostile value of the argument's shape, so it reaches the resolver; with
    ``wrong_types``, possibly any JSON at all, so coercion is attacked too."""
    nullable = not isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        shaped: st.SearchStrategy[Any] = st.lists(value_for(inner.of_type, wrong_types), max_size=4)
    elif isinstance(inner, GraphQLEnumType):
        shaped = st.one_of(st.sampled_from(list(inner.values)), TEXT)
    elif isinstance(inner, GraphQLInputObjectType):
        shaped = st.fixed_dictionaries(
            {}, optional={n: value_for(f.type, wrong_types) for n, f in inner.fields.items()}
        )
    elif inner.name == "Int":  # type: ignore[union-attr]
        shaped = st.one_of(
            st.integers(min_value=-(2**40), max_value=2**40), st.sampled_from([0, -1, 2**31])
        )
    elif inner.name == "Boolean":  # type: ignore[union-attr]
        shaped = st.booleans()
    else:  # String, ID, Date, DateTime
        shaped = TEXT
    if wrong_types:
        return st.one_of(shaped, ANY_JSON)
    return st.one_of(shaped, st.none()) if nullable else shaped


@st.composite
def hostile_calls(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    op = draw(st.sampled_from(MUTATIONS))
    field = _graphql_field(op.kind, op.name)
    names = list(field.args)
    declared = ", ".join(f"${n}: {field.args[n].type}" for n in names)
    passed = ", ".join(f"{n}: ${n}" for n in names)
    document = f"mutation Hostile({declared}) {{ {op.name}({passed}) {{ __typename }} }}"
    # One call in five may carry wrongly typed values (refused by GraphQL's coercion);
    # the rest are well typed, so their hostile content reaches the resolvers.
    wrong_types = draw(st.integers(min_value=0, max_value=4)) == 4
    variables = {n: draw(value_for(field.args[n].type, wrong_types)) for n in names}
    return op.name, document, variables


@pytest.fixture(scope="module")
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # Wrong passwords are part of the input; the lock would only end the run early.
    return make_settings(lockout_threshold=1_000_000)


@pytest.fixture(scope="module")
async def caller(app: LifespanManager, client: httpx.AsyncClient) -> dict[str, str]:
    admin = await staff_account(app.state, "hostile.admin@example.com", PASSWORD, Role.SUPER_ADMIN)
    await staff_account(app.state, "bystander@example.com", PASSWORD, Role.STUDENT)
    token = (await login(client, admin.email))["accessToken"]
    return {"id": str(admin.id), "token": token}


async def snapshot() -> dict[str, Any]:
    counts = {model.__name__: await model.count() for model in DOCUMENT_MODELS}
    users = {
        str(u.id): u.model_dump(exclude={"last_login_at", "known_devices"})
        for u in await User.find_all().to_list()
    }
    return {"counts": counts, "users": users}


def assert_unchanged(
    before: dict[str, Any], after: dict[str, Any], *, counted: bool, audited: bool = False
) -> None:
    if audited:
        audit = AuditEvent.__name__
        assert after["counts"][audit] - before["counts"][audit] in (0, 1)
        after = {**after, "counts": {**after["counts"], audit: before["counts"][audit]}}
    if not counted:
        assert after == before
        return
    skip = {AuditEvent.__name__, Claim.__name__}
    assert {k: v for k, v in after["counts"].items() if k not in skip} == {
        k: v for k, v in before["counts"].items() if k not in skip
    }
    assert after["counts"][AuditEvent.__name__] >= before["counts"][AuditEvent.__name__]
    for user_id, doc in before["users"].items():
        changed = {k for k in doc if after["users"][user_id].get(k) != doc[k]}
        assert changed <= FAILURE_FIELDS, changed


async def test_hostile_values_in_every_mutation_change_nothing_when_refused(
    client: httpx.AsyncClient, caller: dict[str, str]
) -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = []

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    @given(hostile_calls())
    def collect(call: tuple[str, str, dict[str, Any]]) -> None:
        calls.append(call)

    collect()
    outcomes: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {caller['token']}"}
    for name, document, variables in calls:
        before = await snapshot()
        response = await client.post(
            "/graphql", json={"query": document, "variables": variables}, headers=headers
        )
        check(response)
        body = response.json()
        if body.get("errors"):
            outcome = "refused by GraphQL"
            code = body["errors"][0].get("extensions", {}).get("code")
            # A refused permission is audited (security.access_denied): one event, no more.
            audited = code in AUDITED_DENIALS
            assert_unchanged(before, await snapshot(), counted=False, audited=audited)
        else:
            outcome = body["data"][name]["__typename"]
            if outcome in STRICT:
                assert_unchanged(before, await snapshot(), counted=False)
            elif outcome in COUNTED:
                assert_unchanged(before, await snapshot(), counted=True)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print(f"outcomes of {len(calls)} hostile calls: {outcomes}")
    # The property was exercised on both kinds of refusal, not vacuously.
    assert outcomes.get("refused by GraphQL", 0) >= 10
    assert sum(outcomes.get(kind, 0) for kind in STRICT) >= 30
    # Hypothesis favours the first mutations of the list, so how many credential guesses
    # land depends on the schema's order; two are enough to show the counted path ran.
    assert sum(outcomes.get(kind, 0) for kind in COUNTED) >= 2
