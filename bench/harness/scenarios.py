"""What each scenario sends to each system, as wrk specs (see bench/wrk/bench.lua).

Success is read from the body (a pattern), not only the status: GraphQL answers typed
failures and ``errors`` with 200. JSON spacing differs between servers, hence ``%s*``.
"""

from __future__ import annotations

import json

from harness import keycloak, oidc
from harness.users import PASSWORD, REGISTER_PASSWORD
from harness.wrk import Spec

# Rows of issues 18 and 20 (the others are named where they are run).
PASSKEY_LOGIN = "passkey login"
PASSWORD_LOADGEN = "password login (loadgen)"
CODE_EXCHANGE = "token: authorization_code"
CLIENT_CREDENTIALS = "token: client_credentials"
INTROSPECTION = "introspection"

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _gql(query: str, variables: dict[str, str] | None = None) -> str:
    return json.dumps({"query": query, "variables": variables or {}})


# ------------------------------------------------------------------------ Gatehouse

GH_AUTH_PAYLOAD = "{ __typename ... on AuthPayload { accessToken refreshToken } }"
# Answers that end a session for the client holding it (issue 16: "sessions lost").
GH_LOST = ["RefreshTokenReused", "InvalidRefreshToken", "SessionExpired"]
FANOUT = 4


def gh_trivial() -> Spec:
    return Spec("POST", "/graphql", '"__typename":%s*"Query"', _gql("{ __typename }"), JSON)


def gh_me(tokens: list[str]) -> Spec:
    body = _gql("{ me { id email firstName } }")
    return Spec("POST", "/graphql", '"me":%s*{', body, JSON, tokens, "auth:Bearer ")


def gh_login(emails: list[str]) -> Spec:
    query = (
        f"mutation($e: String!, $p: String!) {{ login(email: $e, password: $p) {GH_AUTH_PAYLOAD} }}"
    )
    body = _gql(query, {"e": "{{ITEM}}", "p": PASSWORD})
    return Spec("POST", "/graphql", '"AuthPayload"', body, JSON, emails, "body")


def gh_refresh(refresh_tokens: list[str]) -> Spec:
    query = f"mutation($t: String!) {{ refreshToken(token: $t) {GH_AUTH_PAYLOAD} }}"
    body = _gql(query, {"t": "{{ITEM}}"})
    return Spec(
        "POST",
        "/graphql",
        '"AuthPayload"',
        body,
        JSON,
        refresh_tokens,
        "body",
        rotate='"refreshToken":%s*"([^"]+)"',
        lost=GH_LOST,
    )


def gh_refresh_fanout(refresh_tokens: list[str], fanout: int = FANOUT) -> Spec:
    """Each token presented by ``fanout`` connections at once, as that many tabs refreshing
    together from one browser: one rotation, the other presentations answered by the
    refresh grace with the same successor; the successor is presented (again ``fanout``
    times) only once every presentation of its parent has been answered."""
    spec = gh_refresh(refresh_tokens)
    spec.fanout = fanout
    # r1.<session>.<generation>.<mac>: one successor per session and generation.
    spec.group = "^(.+)%.[^.]+$"
    spec.lost = GH_LOST
    return spec


def gh_register(run_id: str) -> Spec:
    query = (
        "mutation($e: String!, $p: String!) { register(email: $e, password: $p, "
        'firstName: "Bench", lastName: "Signup") { __typename } }'
    )
    body = _gql(query, {"e": "{{N}}@signup.example", "p": REGISTER_PASSWORD})
    return Spec("POST", "/graphql", '"RegistrationAccepted"', body, JSON, unique=f"gh{run_id}n")


ADMIN_FIELDS = (
    "totalCount edges { node { id email firstName lastName role status createdAt } } "
    "pageInfo { hasNextPage endCursor }"
)


def gh_admin_page(admin_token: str) -> Spec:
    body = _gql(f"{{ users(first: 50) {{ {ADMIN_FIELDS} }} }}")
    return Spec("POST", "/graphql", '"totalCount"', body, JSON, [admin_token], "auth:Bearer ")


def gh_admin_search(admin_token: str, prefixes: list[str]) -> Spec:
    # The admin token rides in a header; the search prefix rotates through the body.
    query = (
        f"query($s: String!) {{ users(filter: {{search: $s}}, first: 20) {{ {ADMIN_FIELDS} }} }}"
    )
    body = _gql(query, {"s": "{{ITEM}}"})
    headers = {**JSON, "Authorization": f"Bearer {admin_token}"}
    return Spec("POST", "/graphql", '"totalCount"', body, headers, prefixes, "body")


# Gatehouse as an OpenID provider (issue 20): form-encoded, client_secret_post.


def gh_client_credentials(service: oidc.Client) -> Spec:
    body = f"grant_type=client_credentials&scope={oidc.SERVICE_SCOPE}&{service.form}"
    return Spec("POST", oidc.TOKEN_PATH, '"access_token"', body, FORM)


def gh_code_exchange(forms: list[str]) -> Spec:
    # Each body holds its own code (single use, 60 s): every code is sent once.
    return Spec(
        "POST", oidc.TOKEN_PATH, '"id_token"', "{{ITEM}}", FORM, forms, "body", single_use=True
    )


def gh_introspect(service: oidc.Client, tokens: list[str]) -> Spec:
    # The resource server asks about the web app's access tokens (RS256 JWTs of people).
    body = f"{service.form}&token={{{{ITEM}}}}"
    return Spec("POST", oidc.INTROSPECT_PATH, '"active":%s*true', body, FORM, tokens, "body")


# -------------------------------------------------------------------- fastapi-users


def fu_me(tokens: list[str]) -> Spec:
    return Spec("GET", "/users/me", '"email"', None, {}, tokens, "auth:Bearer ")


def fu_login(forms: list[str]) -> Spec:
    return Spec("POST", "/auth/jwt/login", '"access_token"', "{{ITEM}}", FORM, forms, "body")


def fu_register(run_id: str) -> Spec:
    body = json.dumps({"email": "{{N}}@signup.example", "password": REGISTER_PASSWORD})
    return Spec("POST", "/auth/register", '"id"', body, JSON, unique=f"fu{run_id}n")


# ----------------------------------------------------------- strawberry-django-auth


def sda_trivial() -> Spec:
    return Spec("POST", "/graphql", '"__typename":%s*"Query"', _gql("{ __typename }"), JSON)


def sda_me(tokens: list[str]) -> Spec:
    body = _gql("{ me { id email firstName } }")
    return Spec("POST", "/graphql", '"me":%s*{', body, JSON, tokens, "auth:JWT ")


def sda_login(emails: list[str]) -> Spec:
    query = (
        "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) "
        "{ success errors token { token } refreshToken { token } } }"
    )
    body = _gql(query, {"u": "{{ITEM}}", "p": PASSWORD})
    return Spec("POST", "/graphql", '"success":%s*true', body, JSON, emails, "body")


def sda_refresh(refresh_tokens: list[str]) -> Spec:
    # revokeRefreshToken: true is gqlauth's rotation (a new refresh token each time).
    query = (
        "mutation($t: String!) { refreshToken(refreshToken: $t, revokeRefreshToken: true) "
        "{ success errors token { token } refreshToken { token } } }"
    )
    body = _gql(query, {"t": "{{ITEM}}"})
    return Spec(
        "POST",
        "/graphql",
        '"success":%s*true',
        body,
        JSON,
        refresh_tokens,
        "body",
        rotate='"refreshToken":%s*{%s*"token":%s*"([^"]+)"',
    )


def sda_register(run_id: str) -> Spec:
    query = (
        "mutation($e: String!, $p: String!) { register(email: $e, username: $e, "
        "password1: $p, password2: $p) { success errors } }"
    )
    body = _gql(query, {"e": "{{N}}@signup.example", "p": REGISTER_PASSWORD})
    return Spec("POST", "/graphql", '"success":%s*true', body, JSON, unique=f"sd{run_id}n")


# ------------------------------------------------------------------------- Keycloak
# OAuth 2 endpoints: form-encoded POST bodies with the confidential client's credentials.


def kc_login(forms: list[str]) -> Spec:
    # Password grant, no `openid` scope: access and refresh token only, as Gatehouse's login.
    return Spec("POST", keycloak.TOKEN_PATH, '"refresh_token"', "{{ITEM}}", FORM, forms, "body")


def kc_refresh(refresh_tokens: list[str]) -> Spec:
    # Single-use refresh tokens (revokeRefreshToken): each answer's goes back into the pool.
    body = f"grant_type=refresh_token&{keycloak.CLIENT_FORM}&refresh_token={{{{ITEM}}}}"
    return Spec(
        "POST",
        keycloak.TOKEN_PATH,
        '"access_token"',
        body,
        FORM,
        refresh_tokens,
        "body",
        rotate='"refresh_token":%s*"([^"]+)"',
    )


def kc_userinfo(tokens: list[str]) -> Spec:
    # Keycloak's `me`: OIDC userinfo (the tokens carry the `openid` scope it requires).
    return Spec("GET", keycloak.USERINFO_PATH, '"email"', None, {}, tokens, "auth:Bearer ")


def kc_client_credentials() -> Spec:
    # The bench client's service account (serviceAccountsEnabled); no refresh token.
    body = f"grant_type=client_credentials&{keycloak.CLIENT_FORM}"
    return Spec("POST", keycloak.TOKEN_PATH, '"access_token"', body, FORM)


def kc_introspect(tokens: list[str]) -> Spec:
    body = f"{keycloak.CLIENT_FORM}&token={{{{ITEM}}}}"
    return Spec("POST", keycloak.INTROSPECT_PATH, '"active":%s*true', body, FORM, tokens, "body")
