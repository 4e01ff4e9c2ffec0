from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(description="What this server is and which API it speaks.")
class ServerInfo:
    name: str
    version: str
    environment: str
    api_version: str = strawberry.field(description="The GraphQL API version (see README).")
    server_time: datetime
