"""authlib's authorization server, wired to Gatehouse's storage.

authlib's server is synchronous; the provider (domain/oauth/provider.py) runs each of
its calls on a worker thread, and every storage hook here hops back to the event loop
with ``anyio.from_thread.run``, so the stores stay async and nothing blocks the loop.
Requests and responses cross in a framework-neutral form (``HttpRequest``,
``HttpResponse``); the Starlette glue lives in resolvers/http/oauth/.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from anyio import from_thread
from authlib.oauth2.rfc6749 import AuthorizationServer, JsonRequest, OAuth2Request, grants  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.errors import (  # type: ignore[import-untyped]
    InvalidRequestError,
    InvalidScopeError,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, JsonPayload  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.util import (  # type: ignore[import-untyped]
    extract_basic_authorization,
    scope_to_list,
)
from authlib.oauth2.rfc7636 import CodeChallenge  # type: ignore[import-untyped]
from authlib.oidc.core import grants as oidc_grants  # type: ignore[import-untyped]

from domain.core.actor import Actor
from domain.oauth.answered import ask
from domain.oauth.documents import GrantType, OAuthClient
from domain.oauth.refresh import Presented
from domain.oauth.store import CodeRecord, Subject

T = TypeVar("T")

SECRET_METHODS = ["client_secret_basic", "client_secret_post"]
CLIENT_QUESTION = "client"  # (client_id,): the client a request's credentials name


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str]
    params: list[tuple[str, str]] = field(default_factory=list)  # query or form fields
    client_ip: str = ""  # the caller's address (a refresh's client context)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: Any
    headers: list[tuple[str, str]]


class _Payload(BasicOAuth2Payload):  # type: ignore[misc]
    def __init__(self, params: list[tuple[str, str]]) -> None:
        first: dict[str, str] = {}
        every: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in params:
            first.setdefault(name, value)
            every[name].append(value)
        self._data = first
        self._datalist = every


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request.method, request.url, headers=request.headers)
        self.origin = request
        self.payload = _Payload(request.params)
        self._fields = self.payload.data

    @property
    def args(self) -> dict[str, str]:
        fields: dict[str, str] = self._fields
        return fields

    @property
    def form(self) -> dict[str, str]:
        fields: dict[str, str] = self._fields
        return fields


def presented_client_ids(request: HttpRequest) -> list[str]:
    """Every client id the request's credentials name (HTTP Basic, then the form's
    first ``client_id``), as authlib's client authentication will look them up."""
    found: list[str] = []
    basic_id, _ = extract_basic_authorization(request.headers)
    form_id = next((value for name, value in request.params if name == "client_id"), None)
    for client_id in (basic_id, form_id):
        if isinstance(client_id, str) and _plausible_client_id(client_id):
            found.append(client_id)
    return found


def _plausible_client_id(client_id: str) -> bool:
    return bool(client_id) and len(client_id) <= 100


class ClientModel:
    """authlib's ClientMixin over the stored client."""

    def __init__(self, client: OAuthClient) -> None:
        self.client = client
        self.client_id = client.id
        self.client_metadata: dict[str, Any] = {}

    def get_client_id(self) -> str:
        return self.client.id

    def get_default_redirect_uri(self) -> str | None:
        # Only a client with exactly one URI may leave redirect_uri out.
        uris = self.client.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.client.scopes)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string comparison (RFC 9700 §4.1.3): no prefix, no normalisation.
        return redirect_uri in self.client.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        from domain.oauth.clients import OAuthClients

        return OAuthClients.check_secret(self.client, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client.is_public:
            return method == "none"
        return method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and GrantType.AUTHORIZATION_CODE in self.client.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.client.grant_types


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only (``plain`` refused, RFC 9700 §2.1.1); public clients must use it."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge_method") == "plain":
            raise InvalidRequestError("PKCE 'plain' is not accepted: use S256.")
        if grant.request.client.client.is_public and not data.get("code_challenge"):
            raise InvalidRequestError("Public clients must send a PKCE code_challenge (S256).")
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Send code_challenge_method=S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: CodeRecord) -> str | None:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: CodeRecord) -> str | None:
        return authorization_code.code_challenge_method


class Hooks:
    """The async work authlib's hooks ask for; the provider implements it."""

    def query_client(self, client_id: str) -> Awaitable[OAuthClient | None]:
        raise NotImplementedError

    def save_code(self, code: str, request: OAuth2Request) -> Awaitable[None]:
        raise NotImplementedError

    def take_code(self, code: str) -> Awaitable[CodeRecord | None]:
        raise NotImplementedError

    def take_refresh(self, token: str, client_id: str, actor: Actor) -> Awaitable[Presented | None]:
        raise NotImplementedError

    def live_subject(self, subject: Subject) -> Awaitable[Subject | None]:
        raise NotImplementedError

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> Awaitable[None]:
        raise NotImplementedError

    def generate_token(
        self, client: ClientModel, user: Subject | None, scope: str, refresh: bool
    ) -> dict[str, Any]:
        raise NotImplementedError

    def id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        raise NotImplementedError


def on_loop(call: Callable[..., Awaitable[T]], *args: Any) -> T:
    """From authlib's worker thread: run ``call`` on the event loop and wait for it."""
    return from_thread.run(call, *args)  # type: ignore[arg-type]


class GatehouseServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, hooks: Hooks, scopes: list[str]) -> None:
        super().__init__(scopes_supported=None)
        self.hooks = hooks
        self.register_token_generator("default", self._generate)
        code_grant = _code_grant(hooks)
        self.register_grant(code_grant, [S256Only(required=True), _OpenIDCode(hooks)])
        self.register_grant(_refresh_grant(hooks))
        self.register_grant(_ClientCredentials)

    def _generate(
        self,
        grant_type: str,
        client: ClientModel,
        user: Subject | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        refresh = include_refresh_token and "offline_access" in (scope or "").split()
        return self.hooks.generate_token(client, user, scope or "", refresh)

    def get_authorization_grant(self, request: OAuth2Request) -> Any:
        try:
            return super().get_authorization_grant(request)
        except ValueError as exc:
            # authlib quotes the response_type in its error description and refuses to
            # build the error when that holds characters RFC 6749 §4.1.2.1 forbids there.
            raise InvalidRequestError("Unsupported response_type.") from exc

    def query_client(self, client_id: str) -> ClientModel | None:
        if not isinstance(client_id, str) or not _plausible_client_id(client_id):
            return None
        client = ask(CLIENT_QUESTION, self.hooks.query_client, client_id)
        return ClientModel(client) if client is not None else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        on_loop(self.hooks.save_token, token, request)

    def create_oauth2_request(self, request: HttpRequest | OAuth2Request) -> OAuth2Request:
        return request if isinstance(request, OAuth2Request) else _Request(request)

    def create_json_request(self, request: HttpRequest) -> JsonRequest:
        json_request = JsonRequest(request.method, request.url, request.headers)
        json_request.payload = JsonPayload(dict(request.params))
        return json_request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> HttpResponse:
        return HttpResponse(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """authlib's signals (after_authenticate_client, ...): audit happens in the provider."""


def _code_grant(hooks: Hooks) -> type[grants.AuthorizationCodeGrant]:
    class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]

        def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
            on_loop(hooks.save_code, code, request)

        def query_authorization_code(self, code: str, client: ClientModel) -> CodeRecord | None:
            if not isinstance(code, str) or len(code) > 200:
                return None
            record = on_loop(hooks.take_code, code)
            if record is None or record.client_id != client.get_client_id():
                return None
            return record

        def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
            """Already gone: ``take_code`` consumed it."""

        def authenticate_user(self, authorization_code: CodeRecord) -> Subject | None:
            return on_loop(hooks.live_subject, authorization_code.subject)

    return CodeGrant


def _refresh_grant(hooks: Hooks) -> type[grants.RefreshTokenGrant]:
    class RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token: str) -> Presented | None:
            if not isinstance(refresh_token, str) or len(refresh_token) > 200:
                return None
            origin: HttpRequest = self.request.origin
            user_agent = origin.headers.get("User-Agent", "")[:512]
            actor = Actor.anonymous(origin.client_ip, user_agent, None)
            client_id = self.request.client.get_client_id()
            return on_loop(hooks.take_refresh, refresh_token, client_id, actor)

        def authenticate_user(self, refresh_token: Presented) -> Subject | None:
            return on_loop(hooks.live_subject, refresh_token.subject)

        def issue_token(self, user: Subject, refresh_token: Presented) -> dict[str, Any]:
            token: dict[str, Any] = super().issue_token(user, refresh_token)
            if "refresh_token" in token:
                # The successor derived from the presented token, so a grace answer (the
                # same token again) gets the same successor (domain/oauth/refresh.py).
                token["refresh_token"] = refresh_token.successor
            return token

        def revoke_old_credential(self, refresh_token: Presented) -> None:
            """Already consumed by ``take_refresh``; its marker catches a reuse."""

    return RefreshGrant


class _ClientCredentials(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_METHODS

    def validate_requested_scope(self) -> None:
        """Only scopes the client was registered with, and never ``openid``.

        authlib's grant (1.9) never asks the client which scopes it holds, so without
        this a machine got any scope it named. The authorization-code and device paths
        narrow a request to the client's scopes (``get_allowed_scope``; the response's
        ``scope`` says what was granted, RFC 6749 §3.3) because a person consents to the
        narrowed list; here nobody consents and the token is all the caller gets, so a
        scope the client was not given is refused outright (§5.2 ``invalid_scope``)
        rather than silently dropped. ``openid`` asks for a person's identity, which a
        client acting for itself has none of (no ID token, no userinfo).
        """
        requested = set(scope_to_list(self.request.payload.scope) or [])
        if "openid" in requested:
            raise InvalidScopeError("'openid' is not available with client credentials.")
        client: ClientModel = self.request.client
        if not requested <= set(client.client.scopes):
            raise InvalidScopeError("The client was not registered for every requested scope.")
        super().validate_requested_scope()


class _OpenIDCode(oidc_grants.OpenIDCode):  # type: ignore[misc]
    def __init__(self, hooks: Hooks) -> None:
        super().__init__(require_nonce=False)
        self._hooks = hooks

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False  # replayed nonces are the relying party's check (OIDC Core §15.5.2)

    def encode_id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        return self._hooks.id_token(token, request)
