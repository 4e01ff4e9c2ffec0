"""The per-request GraphQL context, read in resolvers as ``info: Info``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

import strawberry
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response

from domain.apikeys.service import ApiKeyPrincipal
from domain.core.clock import Clock
from domain.core.errors import UnauthenticatedError
from domain.core.settings import Settings
from domain.services import Services
from domain.sessions.principal import Principal
from schema.loaders import Loaders


@dataclass(frozen=True, slots=True)
class RequestMeta:
    request_id: str
    ip: str
    user_agent: str


@dataclass(slots=True)
class Context:
    """Resolvers reach the domain only through ``services`` (built once, domain/services.py)."""

    settings: Settings
    clock: Clock
    services: Services
    redis: Redis
    meta: RequestMeta
    request: Request
    response: Response
    principal: Principal | None = None
    api_key: ApiKeyPrincipal | None = None
    # The principal's cached account, read in the admission's round trip (HTTP only:
    # a socket's would grow old over its life).
    cached_account: bytes | None = None
    connection_params: dict[str, object] | None = None
    loaders: Loaders = field(default_factory=Loaders)

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise UnauthenticatedError
        return self.principal


Info: TypeAlias = strawberry.Info[Context, None]
