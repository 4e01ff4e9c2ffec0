from __future__ import annotations

from domain.core.clock import utcnow
from domain.core.version import API_VERSION, VERSION
from schema.context import Info
from schema.types.server_info import ServerInfo


def resolve_server_info(info: Info) -> ServerInfo:
    settings = info.context.settings
    return ServerInfo(
        name=settings.service_name,
        version=VERSION,
        environment=settings.environment.value,
        api_version=API_VERSION,
        server_time=utcnow(),
    )
