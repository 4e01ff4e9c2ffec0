"""Passkey types, built field by field from documents: a public key never leaves."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import orjson
import strawberry
from strawberry.scalars import JSON

from domain.passkeys.documents import Passkey


@strawberry.enum(description="Whether the passkey lives on one device or is synced.")
class PasskeyDeviceType(Enum):
    SINGLE_DEVICE = "single_device"
    MULTI_DEVICE = "multi_device"


@strawberry.type(name="Passkey", description="A passkey (WebAuthn credential) of an account.")
class PasskeyType:
    id: strawberry.ID = strawberry.field(description="The credential id, base64url.")
    name: str
    created_at: datetime
    last_used_at: datetime | None
    device_type: PasskeyDeviceType
    backed_up: bool = strawberry.field(description="A synced passkey that is backed up now.")
    transports: list[str] = strawberry.field(
        description="How a browser reaches it (`internal`, `hybrid`, `usb`, ...)."
    )

    @classmethod
    def from_document(cls, passkey: Passkey) -> PasskeyType:
        device = (
            PasskeyDeviceType.MULTI_DEVICE
            if passkey.device_type == PasskeyDeviceType.MULTI_DEVICE.value
            else PasskeyDeviceType.SINGLE_DEVICE
        )
        return cls(
            id=strawberry.ID(passkey.id),
            name=passkey.name,
            created_at=passkey.created_at,
            last_used_at=passkey.last_used_at,
            device_type=device,
            backed_up=passkey.backed_up,
            transports=list(passkey.transports),
        )


def options_object(options_json: str) -> JSON:
    """The options as a JSON object (what the browser's parse*OptionsFromJSON takes)."""
    parsed: JSON = orjson.loads(options_json)
    return parsed


@strawberry.type(
    description="Pass `options` to `PublicKeyCredential.parseCreationOptionsFromJSON` and "
    "`navigator.credentials.create`, then send the result to `finishPasskeyRegistration` "
    "before `expiresAt`."
)
class PasskeyRegistrationOptions:
    options: JSON = strawberry.field(description="PublicKeyCredentialCreationOptionsJSON.")
    expires_at: datetime


@strawberry.type(
    description="Pass `options` to `PublicKeyCredential.parseRequestOptionsFromJSON` and "
    '`navigator.credentials.get` (with `mediation: "conditional"` for autofill), then '
    "send the result and `attemptId` to `finishPasskeyLogin` before `expiresAt`."
)
class PasskeyLoginOptions:
    attempt_id: str = strawberry.field(description="Opaque; single use.")
    options: JSON = strawberry.field(description="PublicKeyCredentialRequestOptionsJSON.")
    expires_at: datetime


@strawberry.type
class PasskeyAdded:
    passkey: PasskeyType


@strawberry.type
class PasskeyRenamed:
    passkey: PasskeyType


@strawberry.type
class PasskeyRemoved:
    id: strawberry.ID


@strawberry.type(description="A user's passkeys, for an administrator.")
class UserPasskeys:
    passkeys: list[PasskeyType]


@strawberry.type(
    description="Pass `options` to `PublicKeyCredential.parseRequestOptionsFromJSON` and "
    "`navigator.credentials.get`, then send the result as `reauthenticate(passkey:)` from "
    "this session before `expiresAt`."
)
class PasskeyReauthenticationOptions:
    options: JSON = strawberry.field(description="PublicKeyCredentialRequestOptionsJSON.")
    expires_at: datetime
