"""RFC 8628 on authlib's server: the device authorization endpoint and the device code
grant at the token endpoint, over the Redis state of domain/oauth/device.py; and the
use cases of the pages where a person enters the user code and approves.

Like the other grants, authlib runs on a worker thread and its hooks hop back to the
event loop (domain/oauth/server.py). With the ``openid`` scope the token response
carries an ID token, as in the code flow.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from authlib.consts import default_json_headers  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749 import OAuth2Request  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.errors import (  # type: ignore[import-untyped]
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc8628 import (  # type: ignore[import-untyped]
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
)
from authlib.oauth2.rfc8628.errors import (  # type: ignore[import-untyped]
    AuthorizationPendingError,
    ExpiredTokenError,
    SlowDownError,
)

from domain.oauth.device import (
    DEVICE_CODE_TTL_SECONDS,
    DeviceFlow,
    DeviceRequest,
    PollResult,
    PollStatus,
    display_user_code,
)
from domain.oauth.documents import GrantType, OAuthClient
from domain.oauth.provider import OAuthProvider
from domain.oauth.server import SECRET_METHODS, ClientModel, HttpRequest, HttpResponse, on_loop
from domain.oauth.store import Subject

_ERRORS = {
    PollStatus.PENDING: AuthorizationPendingError,
    PollStatus.SLOW_DOWN: SlowDownError,
    PollStatus.DENIED: AccessDeniedError,
    PollStatus.EXPIRED: ExpiredTokenError,
    PollStatus.USED: InvalidGrantError,
}


class _DeviceAuthorization(DeviceAuthorizationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = [*SECRET_METHODS, "none"]
    EXPIRES_IN = DEVICE_CODE_TTL_SECONDS

    def __init__(self, server: Any, flow: DeviceFlow, verification_uri: str) -> None:
        super().__init__(server)
        self._flow = flow
        self._verification_uri = verification_uri

    def create_endpoint_response(self, request: OAuth2Request) -> tuple[int, Any, Any]:
        """§3.1-3.2; the scope is narrowed to the client's, as at the authorization
        endpoint, and only a client registered for this grant may start it."""
        client: ClientModel = self.authenticate_client(request)
        if not client.check_grant_type(GrantType.DEVICE_CODE.value):
            raise UnauthorizedClientError("This client may not use the device authorization grant.")
        scope = client.get_allowed_scope(request.payload.scope)
        device_code, pending = on_loop(self._flow.start, client.get_client_id(), scope)
        user_code = display_user_code(pending.user_code)
        data = {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": self._verification_uri,
            "verification_uri_complete": f"{self._verification_uri}?user_code={user_code}",
            "expires_in": self.EXPIRES_IN,
            "interval": pending.interval,
        }
        return 200, data, default_json_headers


def _device_grant(flow: DeviceFlow, provider: OAuthProvider) -> type[DeviceCodeGrant]:
    class DeviceGrant(DeviceCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]

        def validate_token_request(self) -> None:
            """§3.4-3.5 (authlib's, with a spent or unknown device code as invalid_grant)."""
            device_code = self.request.payload.data.get("device_code")
            if not device_code:
                raise InvalidRequestError("Missing 'device_code'.")
            client = self.authenticate_token_endpoint_client()
            if not client.check_grant_type(self.GRANT_TYPE):
                raise UnauthorizedClientError("This client may not use the device code grant.")
            credential: DeviceRequest | None = on_loop(flow.by_device_code, device_code)
            if credential is None or credential.client_id != client.get_client_id():
                raise InvalidGrantError("The device code is unknown, spent or expired.")
            self.request.user = self.validate_device_credential(credential)
            self.request.client = client
            self.request.credential = credential

        def validate_device_credential(self, credential: DeviceRequest) -> Subject:
            result: PollResult = on_loop(flow.poll, credential)
            if result.status is not None:
                raise _ERRORS[result.status]()
            assert result.subject is not None
            subject: Subject | None = on_loop(provider.live_subject, result.subject)
            if subject is None:  # signed out (or the account closed) since approving
                raise AccessDeniedError()
            return subject

        def create_token_response(self) -> tuple[int, Any, Any]:
            client: ClientModel = self.request.client
            scope = self.request.credential.get_scope()
            token: dict[str, Any] = self.generate_token(
                user=self.request.user,
                scope=scope,
                include_refresh_token=client.check_grant_type("refresh_token"),
            )
            if "openid" in scope.split():
                token["id_token"] = provider.id_token(token, self.request)
            self.save_token(token)
            return 200, token, self.TOKEN_RESPONSE_HEADER

    return DeviceGrant


class DeviceGrants:
    """The device endpoint, and what the user-code pages ask of the flow."""

    def __init__(self, provider: OAuthProvider, flow: DeviceFlow, verification_uri: str) -> None:
        self._provider = provider
        self.flow = flow
        provider.server.register_endpoint(
            _DeviceAuthorization(provider.server, flow, verification_uri)
        )
        provider.server.register_grant(_device_grant(flow, provider))

    async def device_authorization(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = await to_thread.run_sync(
            self._provider.server.create_endpoint_response, "device_authorization", request
        )
        return response

    async def pending(self, user_code: str) -> tuple[DeviceRequest, OAuthClient] | None:
        """The request a typed user code names and its (active) client, or None."""
        request = await self.flow.by_user_code(user_code)
        if request is None:
            return None
        client = await self._provider.clients.active(request.client_id)
        return (request, client) if client is not None else None

    async def answer(self, user_code: str, subject: Subject, *, approve: bool) -> bool:
        """The signed-in person approves or denies; False when the code is no longer
        waiting (answered, expired, its client disabled)."""
        found = await self.pending(user_code)
        if found is None:
            return False
        request, _ = found
        return await self.flow.decide(request, subject if approve else None)
