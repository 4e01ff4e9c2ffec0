"""The WebAuthn relying party: options and verification, all through py_webauthn.

Nothing here reads CBOR or COSE or checks a signature by hand: the library parses the
browser's answer, checks challenge, origin, RP ID hash, flags, attestation and
signature. What it does not decide is policy, and that is here: which origins and RP
ID are ours (settings), how much user verification to ask for, and the signature
counter rule (checked by the sign-in after the signature, so only a holder of the key
can raise a clone warning; domain/passkeys/sign_in.py).

Whatever a client sends, a failure here is an ``InvalidPasskeyError`` with the reason
for the logs: malformed JSON, base64 or CBOR, an unknown algorithm, a wrong origin.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.authentication.verify_authentication_response import VerifiedAuthentication
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from domain.core.derived_keys import derive_key
from domain.core.settings import Settings
from domain.passkeys.errors import InvalidPasskeyError

CHALLENGE_BYTES = 32
# A credential as browsers send it is a few hundred bytes to a few KiB (attestation
# certificates); anything much larger is not one.
MAX_CREDENTIAL_BYTES = 64 * 1024
DECOY_ID_BYTES = 32
_DECOY_TRANSPORTS = [AuthenticatorTransport.HYBRID, AuthenticatorTransport.INTERNAL]
# Whatever the library (or the cryptography and CBOR code under it) raises on input it
# cannot read; all of it is the client's mistake, never a server error.
_UNREADABLE = (
    WebAuthnException,
    ValueError,  # binascii, JSON, CBOR decode errors and pydantic-free parsing alike
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    InvalidSignature,
    UnsupportedAlgorithm,
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class NewCredential:
    """A verified registration, as the passkey document keeps it."""

    credential_id: str
    public_key: str
    sign_count: int
    transports: list[str]
    device_type: str
    backed_up: bool
    aaguid: str
    attestation_format: str
    user_verified: bool


@dataclass(frozen=True, slots=True)
class Assertion:
    """A sign-in answer, read but not yet verified."""

    credential: AuthenticationCredential
    credential_id: str
    user_handle: bytes | None


@dataclass(frozen=True, slots=True)
class KnownKey:
    """What the server holds of a credential to verify an assertion with."""

    credential_id: str
    transports: Sequence[str]


def derive_decoy_key(settings: Settings) -> bytes:
    """The key decoy credential ids are derived with (domain/core/derived_keys.py)."""
    return derive_key(settings, b"gatehouse-passkey-decoy")


def _as_json_object(value: object) -> dict[str, object]:
    """The credential, whether the client sent the JSON object or its text."""
    text = value if isinstance(value, str) else None
    try:
        if text is None:
            text = orjson.dumps(value).decode()
        if len(text) > MAX_CREDENTIAL_BYTES:
            raise InvalidPasskeyError("too_large")
        parsed = orjson.loads(text)
    except (orjson.JSONEncodeError, orjson.JSONDecodeError) as error:
        raise InvalidPasskeyError("not_json") from error
    if not isinstance(parsed, dict):
        raise InvalidPasskeyError("not_an_object")
    return parsed


def _text(value: object) -> str:
    """An enum member's value (the library hands back members or plain strings)."""
    return str(getattr(value, "value", value))


def _transports(names: Sequence[str]) -> list[AuthenticatorTransport]:
    known = {t.value for t in AuthenticatorTransport}
    return [AuthenticatorTransport(n) for n in names if n in known]


class RelyingParty:
    def __init__(self, settings: Settings, decoy_key: bytes) -> None:
        self.rp_id = settings.passkey_rp_id
        self.rp_name = settings.passkey_rp_name or settings.product_name
        self.origins = list(settings.passkey_origins)
        self.user_verification = UserVerificationRequirement(settings.passkey_user_verification)
        self.require_user_verification = settings.passkey_user_verification == "required"
        self.attestation = AttestationConveyancePreference(settings.passkey_attestation)
        self.timeout_ms = settings.passkey_challenge_ttl_seconds * 1000
        self._decoy_key = decoy_key

    @staticmethod
    def new_challenge() -> bytes:
        return secrets.token_bytes(CHALLENGE_BYTES)

    def registration_options(
        self,
        *,
        user_handle: bytes,
        user_name: str,
        display_name: str,
        challenge: bytes,
        existing: Sequence[KnownKey],
    ) -> str:
        """PublicKeyCredentialCreationOptionsJSON for ``navigator.credentials.create``."""
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self.rp_name,
            user_name=user_name,
            user_id=user_handle,
            user_display_name=display_name or user_name,
            challenge=challenge,
            timeout=self.timeout_ms,
            attestation=self.attestation,
            authenticator_selection=AuthenticatorSelectionCriteria(
                # Discoverable, so the account can be chosen without typing an email.
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=self.user_verification,
            ),
            # The same authenticator is not registered twice to one account.
            exclude_credentials=self._descriptors(existing),
        )
        return options_to_json(options)

    def verify_registration(self, credential: object, challenge: bytes) -> NewCredential:
        """Raises: InvalidPasskeyError."""
        body = _as_json_object(credential)
        try:
            parsed = parse_registration_credential_json(body)
            verified = verify_registration_response(
                credential=parsed,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origins,
                require_user_verification=self.require_user_verification,
            )
        except _UNREADABLE as error:
            raise InvalidPasskeyError(f"registration: {error}"[:200]) from error
        return NewCredential(
            credential_id=b64url(verified.credential_id),
            public_key=b64url(verified.credential_public_key),
            sign_count=verified.sign_count,
            transports=[_text(t) for t in parsed.response.transports or []],
            device_type=_text(verified.credential_device_type),
            backed_up=verified.credential_backed_up,
            aaguid=verified.aaguid,
            attestation_format=_text(verified.fmt),
            user_verified=verified.user_verified,
        )

    def authentication_options(self, challenge: bytes, allowed: Sequence[KnownKey]) -> str:
        """PublicKeyCredentialRequestOptionsJSON for ``navigator.credentials.get``; an
        empty ``allowed`` lets the browser offer any discoverable passkey of this RP."""
        options = generate_authentication_options(
            rp_id=self.rp_id,
            challenge=challenge,
            timeout=self.timeout_ms,
            allow_credentials=self._descriptors(allowed),
            user_verification=self.user_verification,
        )
        return options_to_json(options)

    def decoy_keys(self, email: str) -> list[KnownKey]:
        """What an address without passkeys is offered: one credential id derived from
        the address with a server key, the same on every ask, so the options do not say
        whether the account (or a passkey of it) exists."""
        digest = hmac.new(self._decoy_key, email.encode(), hashlib.sha256).digest()
        return [
            KnownKey(
                credential_id=b64url(digest[:DECOY_ID_BYTES]),
                transports=[t.value for t in _DECOY_TRANSPORTS],
            )
        ]

    @staticmethod
    def read_assertion(credential: object) -> Assertion:
        """Raises: InvalidPasskeyError."""
        body = _as_json_object(credential)
        try:
            parsed = parse_authentication_credential_json(body)
        except _UNREADABLE as error:
            raise InvalidPasskeyError(f"assertion: {error}"[:200]) from error
        return Assertion(
            credential=parsed,
            credential_id=b64url(parsed.raw_id),
            user_handle=parsed.response.user_handle or None,
        )

    def verify_assertion(
        self, assertion: Assertion, *, challenge: bytes, public_key: str
    ) -> VerifiedAuthentication:
        """Everything but the counter (the caller's rule, after the signature holds).

        Raises: InvalidPasskeyError.
        """
        try:
            return verify_authentication_response(
                credential=assertion.credential,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origins,
                credential_public_key=from_b64url(public_key),
                credential_current_sign_count=0,
                require_user_verification=self.require_user_verification,
            )
        except (*_UNREADABLE, binascii.Error) as error:
            raise InvalidPasskeyError(f"assertion: {error}"[:200]) from error

    @staticmethod
    def _descriptors(keys: Sequence[KnownKey]) -> list[PublicKeyCredentialDescriptor]:
        return [
            PublicKeyCredentialDescriptor(
                id=from_b64url(k.credential_id), transports=_transports(k.transports) or None
            )
            for k in keys
        ]
