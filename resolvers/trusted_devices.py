"""Resolvers of trusted devices: read the context, call one service, shape the result."""

from __future__ import annotations

import strawberry
from beanie import PydanticObjectId

from domain.core.errors import NotFoundError
from schema.actor import actor_of
from schema.context import Info
from schema.error_mapping import maps_domain_errors
from schema.trusted_devices.types import TrustedDeviceRevoked, TrustedDeviceType


def _user_id(info: Info) -> PydanticObjectId:
    return PydanticObjectId(info.context.require_principal().user_id)


async def my_trusted_devices(info: Info) -> list[TrustedDeviceType]:
    devices = await info.context.services.trusted_devices.of_user(_user_id(info))
    return [TrustedDeviceType.from_document(d) for d in devices]


@maps_domain_errors(NotFoundError)
async def revoke_trusted_device(info: Info, id: strawberry.ID) -> TrustedDeviceRevoked:
    revoked = await info.context.services.trusted_devices.revoke(
        _user_id(info), str(id), actor_of(info)
    )
    if not revoked:
        raise NotFoundError("No trusted device of yours has that id.")
    return TrustedDeviceRevoked(id=id)
