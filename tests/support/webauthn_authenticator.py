"""A software WebAuthn authenticator for the tests: what a browser and a passkey would
send back, built from ``cryptography`` keys and ``cbor2``, never from the server's code.

It answers ``navigator.credentials.create`` and ``.get`` options (the JSON the server
hands out) with the JSON a browser returns (``PublicKeyCredential.toJSON()``):
ES256 or EdDSA credentials, ``none`` or ``packed`` self attestation, user verification
on or off, a signature counter that steps (or stays at zero, as synced passkeys do), and
``clone()``: a second authenticator holding the same keys and counters, so the two
answer with counters that do not move forward (WebAuthn §6.1.1).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

Algorithm = Literal["ES256", "EdDSA"]
Attestation = Literal["none", "packed"]
_COSE_ALG = {"ES256": -7, "EdDSA": -8}
_UP, _UV, _BE, _BS, _AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AuthenticatorRefused(Exception):  # noqa: N818 - as a browser's DOMException names it
    """What the browser would reject with (InvalidStateError, NotAllowedError)."""


@dataclass
class Credential:
    credential_id: bytes
    algorithm: Algorithm
    private_key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            raw = self.private_key.public_key().public_bytes_raw()
            return cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw})
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(data)
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))


@dataclass
class SoftwareAuthenticator:
    origin: str = "http://localhost:3000"
    algorithm: Algorithm = "ES256"
    attestation: Attestation = "none"
    user_verification: bool = True
    # How far the counter moves per signature; 0 keeps it at zero (synced passkeys).
    counter_step: int = 1
    backup_eligible: bool = False
    aaguid: bytes = bytes(16)
    credentials: dict[bytes, Credential] = field(default_factory=dict)

    # --- navigator.credentials.create ---------------------------------------------

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
    ) -> dict[str, Any]:
        """A RegistrationResponseJSON for ``options`` (PublicKeyCredentialCreationOptionsJSON).

        ``origin``, ``rp_id`` and ``challenge`` override what an honest browser would
        use, to play a phishing page or a replay.
        """
        rp = rp_id or options["rp"]["id"]
        wanted = [p["alg"] for p in options["pubKeyCredParams"]]
        if _COSE_ALG[self.algorithm] not in wanted:
            raise AuthenticatorRefused("NotSupportedError: no common algorithm")
        for excluded in options.get("excludeCredentials") or []:
            if from_b64url(excluded["id"]) in self.credentials:
                raise AuthenticatorRefused("InvalidStateError: already registered")
        credential = Credential(
            credential_id=os.urandom(16),
            algorithm=self.algorithm,
            private_key=(
                ed25519.Ed25519PrivateKey.generate()
                if self.algorithm == "EdDSA"
                else ec.generate_private_key(ec.SECP256R1())
            ),
            rp_id=rp,
            user_handle=from_b64url(options["user"]["id"]),
        )
        client_data = self._client_data(
            "webauthn.create", challenge or options["challenge"], origin
        )
        attested = (
            self.aaguid
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + credential.cose_public_key()
        )
        auth_data = self._authenticator_data(rp, credential.sign_count, _AT) + attested
        statement: dict[str, Any] = {}
        if self.attestation == "packed":  # self attestation: signed by the new key
            signed = auth_data + hashlib.sha256(client_data).digest()
            statement = {"alg": _COSE_ALG[self.algorithm], "sig": credential.sign(signed)}
        attestation_object = cbor2.dumps(
            {"fmt": self.attestation, "attStmt": statement, "authData": auth_data}
        )
        self.credentials[credential.credential_id] = credential
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "transports": ["hybrid", "internal"],
            },
        }

    # --- navigator.credentials.get ------------------------------------------------

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        credential_id: bytes | None = None,
        user_handle: bool = True,
    ) -> dict[str, Any]:
        """An AuthenticationResponseJSON for ``options`` (PublicKeyCredentialRequestOptionsJSON):
        with an allow list, the first credential of it this authenticator holds; without
        one (usernameless), its discoverable credential for the RP (or ``credential_id``)."""
        rp = options.get("rpId") or "localhost"
        credential = self._choose(options, rp, credential_id)
        credential.sign_count += self.counter_step
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = self._authenticator_data(rp_id or rp, credential.sign_count, 0)
        signature = credential.sign(auth_data + hashlib.sha256(client_data).digest())
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
        }
        if user_handle:
            response["userHandle"] = b64url(credential.user_handle)
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        }

    def clone(self) -> SoftwareAuthenticator:
        """Another authenticator with the same keys and counters (an extracted key)."""
        return copy.deepcopy(self)

    @property
    def credential_ids(self) -> list[str]:
        return [b64url(c) for c in self.credentials]

    def _choose(self, options: dict[str, Any], rp: str, credential_id: bytes | None) -> Credential:
        if credential_id is not None:
            return self.credentials[credential_id]
        allowed = [from_b64url(c["id"]) for c in options.get("allowCredentials") or []]
        for wanted in allowed:
            if wanted in self.credentials:
                return self.credentials[wanted]
        if allowed:
            raise AuthenticatorRefused("NotAllowedError: no allowed credential here")
        for held in self.credentials.values():
            if held.rp_id == rp:
                return held
        raise AuthenticatorRefused("NotAllowedError: no credential for this site")

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        body = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps({**body, "crossOrigin": False}, separators=(",", ":")).encode()

    def _authenticator_data(self, rp_id: str, sign_count: int, extra_flags: int) -> bytes:
        flags = _UP | extra_flags
        if self.user_verification:
            flags |= _UV
        if self.backup_eligible:
            flags |= _BE | _BS
        return (
            hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)
        )
