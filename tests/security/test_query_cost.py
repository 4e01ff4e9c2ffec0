"""The cost budget counts page sizes, and a page of users is a fixed number of queries
(issue 13, finding 3)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType, get_named_type, get_nullable_type, is_leaf_type, is_list_type
from graphql import parse as parse_document

from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity.documents import User, UserStatus
from domain.mfa.documents import TotpCredential
from schema.document_limits import DocumentLimits, document_refusals
from schema.limits import LIST_SIZES
from schema.schema import build_schema
from tests.api.identity_ops import PASSWORD, login
from tests.support.accounts import staff_account
from tests.support.asgi import app_client
from tests.support.commands import COMMANDS

SEEDED = 60
BASE = datetime(2025, 6, 1, tzinfo=UTC)
OPERATIONS = Path(__file__).parents[1] / "codegen" / "operations"

PAGE = """
query Page($first: Int) {
  users(first: $first, filter: {search: "costseed"}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id email role status locked emailVerified createdAt twoFactorEnabled } }
  }
}"""


@pytest.fixture(scope="module")
async def http(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    COMMANDS.install()  # before the app makes its database client
    async with app_client(make_settings()) as client:
        yield client


@pytest.fixture(scope="module")
async def seeded(http: httpx.AsyncClient) -> dict[str, bool]:
    """Users matching "costseed"; every third has a confirmed TOTP secret."""
    users = [
        User(
            email=f"costseed{i:03d}@example.org",
            first_name="Cost",
            last_name=f"Seed{i}",
            role=Role.STUDENT,
            status=UserStatus.ACTIVE,
            email_verified=True,
            password_hash="$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            password_changed_at=BASE,
            created_at=BASE + timedelta(minutes=i),
            updated_at=BASE,
        )
        for i in range(SEEDED)
    ]
    await User.insert_many(users)
    stored = await User.find({"email": {"$regex": "^costseed"}}).to_list()
    enabled = {}
    for index, user in enumerate(sorted(stored, key=lambda u: u.email)):
        assert user.id is not None
        enabled[str(user.id)] = index % 3 == 0
        # A pending enrolment (index % 3 == 1) is not two-factor yet.
        if index % 3 != 2:
            await TotpCredential(
                user_id=user.id,
                encrypted_secret="sealed",
                created_at=BASE,
                confirmed_at=BASE if index % 3 == 0 else None,
            ).insert()
    return enabled


async def token_of(http: httpx.AsyncClient, role: Role) -> str:
    state = http.app_state  # type: ignore[attr-defined]
    email = f"cost-{role.value}@example.com"
    if await User.find_one(User.email == email) is None:
        await staff_account(state, email, PASSWORD, role)
    return str((await login(http, email))["accessToken"])


async def test_sixty_aliased_pages_are_refused_before_anything_runs(
    http: httpx.AsyncClient, seeded: dict[str, bool]
) -> None:
    token = await token_of(http, Role.INSTRUCTOR)
    fields = " ".join(
        f"a{i}: users(first: 100) {{ totalCount edges {{ node {{ id twoFactorEnabled }} }} }}"
        for i in range(60)
    )
    with COMMANDS.counting() as commands:
        response = await http.post(
            "/graphql",
            json={"query": f"{{ {fields} }}"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 400, response.text[:300]
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] > 2500
    # Refused before execution: no page, no count, no two-factor lookup.
    ran = [c for c in commands if c[0] in ("aggregate", "count") or c[1] == "totp_credentials"]
    assert ran == [], commands


async def test_an_admin_page_of_fifty_with_count_and_two_factor_is_accepted(
    http: httpx.AsyncClient, seeded: dict[str, bool]
) -> None:
    token = await token_of(http, Role.ADMIN)
    response = await http.post(
        "/graphql",
        json={"query": PAGE.replace("query Page($first: Int)", "query").replace("$first", "50")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text[:300]
    page = response.json()["data"]["users"]
    assert page["totalCount"] == SEEDED
    nodes = [edge["node"] for edge in page["edges"]]
    assert len(nodes) == 50
    assert {n["id"]: n["twoFactorEnabled"] for n in nodes} == {
        n["id"]: seeded[n["id"]] for n in nodes
    }
    assert any(n["twoFactorEnabled"] for n in nodes)


async def test_a_page_of_users_is_the_same_few_queries_whatever_its_size(
    http: httpx.AsyncClient, seeded: dict[str, bool]
) -> None:
    token = await token_of(http, Role.ADMIN)
    counts = {}
    for size in (5, 50):
        with COMMANDS.counting() as commands:
            response = await http.post(
                "/graphql",
                json={"query": PAGE, "variables": {"first": size}},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 200, response.text[:300]
        assert len(response.json()["data"]["users"]["edges"]) == size
        two_factor = [c for c in commands if c == ("find", "totp_credentials")]
        assert len(two_factor) == 1, commands
        counts[size] = len([c for c in commands if c[0] in ("find", "aggregate", "count")])
    assert counts[5] == counts[50], counts


def _limits() -> tuple[Any, DocumentLimits]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    schema = build_schema(settings)
    limits = DocumentLimits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_cost=settings.graphql_max_cost,
    )
    return schema._schema, limits


@pytest.mark.parametrize("path", sorted(OPERATIONS.glob("*.graphql")), ids=lambda p: p.name)
def test_client_operations_fit_the_default_limits(path: Path) -> None:
    schema, limits = _limits()
    assert document_refusals(schema, parse_document(path.read_text()), limits) == []


def test_every_list_of_objects_has_a_declared_size() -> None:
    schema, _ = _limits()
    unlisted = []
    connection_items = set()
    for key, size in LIST_SIZES.items():
        type_name, field_name = key.split(".")
        parent = schema.get_type(type_name)
        assert isinstance(parent, GraphQLObjectType), key
        assert field_name in parent.fields, key
        if size.items:
            connection_items.add(
                f"{get_named_type(parent.fields[field_name].type).name}.{size.items}"
            )
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for name, field in type_.fields.items():
            returned = get_nullable_type(field.type)
            key = f"{type_.name}.{name}"
            of_objects = is_list_type(returned) and not is_leaf_type(get_named_type(returned))
            if of_objects and key not in LIST_SIZES and key not in connection_items:
                unlisted.append(key)
    assert unlisted == [], "add these to schema/limits.py LIST_SIZES"
