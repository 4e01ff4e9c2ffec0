"""The query and mutation of trusted devices, with their result union."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.permission import BasePermission

from resolvers import trusted_devices
from schema.permissions import IsAuthenticated
from schema.trusted_devices.types import TrustedDeviceRevoked, TrustedDeviceType
from schema.user_errors import NotFound

RevokeTrustedDeviceResult = Annotated[
    TrustedDeviceRevoked | NotFound, strawberry.union("RevokeTrustedDeviceResult")
]

_AUTH: list[type[BasePermission]] = [IsAuthenticated]


@strawberry.type
class TrustedDeviceQuery:
    my_trusted_devices: list[TrustedDeviceType] = strawberry.field(
        resolver=trusted_devices.my_trusted_devices,
        permission_classes=_AUTH,
        description="Devices that skip your second factor, most recently used first.",
    )


@strawberry.type
class TrustedDeviceMutation:
    revoke_trusted_device = strawberry.mutation(
        resolver=trusted_devices.revoke_trusted_device,
        permission_classes=_AUTH,
        graphql_type=RevokeTrustedDeviceResult,
        description="Stop trusting one of your devices: it answers the second factor again.",
    )
