"""Trusted-device types, built field by field from documents: a secret's digest never leaves."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.mfa.documents import TrustedDevice


@strawberry.type(
    name="TrustedDevice",
    description="A device that answered the second factor with `rememberDevice` and skips "
    "it until `expiresAt`.",
)
class TrustedDeviceType:
    id: strawberry.ID
    device: str = strawberry.field(description="Browser and system, from its user agent.")
    ip: str = strawberry.field(description="Where it was trusted from.")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime

    @classmethod
    def from_document(cls, device: TrustedDevice) -> TrustedDeviceType:
        return cls(
            id=strawberry.ID(str(device.id)),
            device=device.device,
            ip=device.ip,
            created_at=device.created_at,
            last_used_at=device.last_used_at,
            expires_at=device.expires_at,
        )


@strawberry.type
class TrustedDeviceRevoked:
    id: strawberry.ID
