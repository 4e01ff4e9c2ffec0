"""Access tokens: what is issued, and every way a bad token must be refused."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.core.clock import FrozenClock
from domain.core.errors import DomainError, UnauthenticatedError
from domain.tokens.access import (
    ACCESS_TYP,
    MAX_TOKEN_LENGTH,
    AccessClaims,
    AccessTokenService,
    InvalidAccessToken,
)
from tests.tokens.support import (
    AUDIENCE,
    ISSUER,
    LEEWAY,
    START,
    TTL,
    ed25519_pem,
    forge,
    make_service,
    p256_pem,
    public_pem,
    segment,
    unverified_payload,
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def pem() -> str:
    return ed25519_pem()


@pytest.fixture
def service(tmp_path: Path, clock: FrozenClock, pem: str) -> AccessTokenService:
    return make_service(tmp_path, clock, jwt_private_keys=pem)


def refused(service: AccessTokenService, token: str) -> InvalidAccessToken:
    with pytest.raises(InvalidAccessToken) as caught:
        service.verify(token)
    return caught.value


def claims_for(service: AccessTokenService, **changes: Any) -> dict[str, Any]:
    """The payload of a freshly issued token, with changes (None deletes a claim)."""
    payload = unverified_payload(service.issue("user-1", "session-1", "user")[0])
    for name, value in changes.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


def sign_with_service_key(
    service: AccessTokenService, payload: dict[str, Any], **header: Any
) -> str:
    """A token signed by our real key, but with claims or header of the test's choosing."""
    key = service.keys.active
    assert key.private_key is not None
    headers = {"kid": key.kid, "typ": ACCESS_TYP, **header}
    return jwt.encode(payload, key.private_key, algorithm=key.algorithm, headers=headers)


# --- issue and verify ---


def test_round_trip(service: AccessTokenService) -> None:
    token, issued = service.issue("user-1", "session-1", "admin")
    assert service.verify(token) == issued
    assert (issued.sub, issued.sid, issued.role) == ("user-1", "session-1", "admin")
    assert issued.iat == START
    assert issued.exp == START + timedelta(seconds=TTL)
    assert issued.iat.tzinfo is UTC


def test_issued_token_shape(service: AccessTokenService) -> None:
    token, issued = service.issue("user-1", "session-1", "user")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "kid": service.keys.active.kid, "typ": "at+jwt"}
    payload = unverified_payload(token)
    now = int(START.timestamp())
    assert payload == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "sid": "session-1",
        "jti": issued.jti,
        "role": "user",
        "amr": ["pwd"],
        "auth_time": now,
        "typ": "access",
        "iat": now,
        "nbf": now,
        "exp": now + TTL,
    }


def test_amr_says_whether_a_second_factor_was_used(service: AccessTokenService) -> None:
    password_only, _ = service.issue("user-1", "session-1", "user")
    two_factor, issued = service.issue("user-1", "session-1", "user", mfa=True)
    assert unverified_payload(two_factor)["amr"] == ["pwd", "otp", "mfa"]
    assert issued.mfa
    assert service.verify(two_factor).mfa
    assert not service.verify(password_only).mfa


def test_amr_carries_the_sign_ins_methods_and_mfa_decides_the_second_factor(
    service: AccessTokenService,
) -> None:
    passkey, _ = service.issue("user-1", "session-1", "user", amr=("hwk", "user", "mfa"))
    emailed, _ = service.issue("user-1", "session-1", "user", amr=("otp",))
    assert unverified_payload(passkey)["amr"] == ["hwk", "user", "mfa"]
    assert service.verify(passkey).mfa
    # An emailed code is one factor, though RFC 8176 calls it "otp" like a TOTP code.
    assert unverified_payload(emailed)["amr"] == ["otp"]
    assert not service.verify(emailed).mfa
    # Tokens signed before "mfa" was written said so with a password and a code.
    assert AccessClaims("u", "s", "j", "user", START, START, amr=("pwd", "otp")).mfa


def test_auth_time_is_the_given_authentication_in_whole_seconds(
    service: AccessTokenService,
) -> None:
    signed_in = START - timedelta(minutes=7, microseconds=250_000)
    token, issued = service.issue("user-1", "session-1", "user", auth_time=signed_in)
    whole = START - timedelta(minutes=7, seconds=1)
    assert issued.auth_time == whole
    assert unverified_payload(token)["auth_time"] == int(whole.timestamp())
    assert service.verify(token).auth_time == whole
    fresh, _ = service.issue("user-1", "session-1", "user")
    assert service.verify(fresh).auth_time == START  # no time given: authenticated now
    # Tokens signed before the claim existed still verify, without a time; a wrong one does not.
    older = sign_with_service_key(service, claims_for(service, auth_time=None))
    assert service.verify(older).auth_time is None
    for wrong in ("1700000000", 1.5, True):
        token = sign_with_service_key(service, claims_for(service, auth_time=wrong))
        assert refused(service, token).reason == "auth_time is not an integer"


def test_each_token_has_its_own_jti(service: AccessTokenService) -> None:
    jtis = {service.issue("user-1", "session-1", "user")[1].jti for _ in range(50)}
    assert len(jtis) == 50


def test_microseconds_of_the_clock_do_not_leak_into_claims(tmp_path: Path, pem: str) -> None:
    clock = FrozenClock(START + timedelta(microseconds=987_654))
    service = make_service(tmp_path, clock, jwt_private_keys=pem)
    token, issued = service.issue("user-1", "session-1", "user")
    assert issued.iat == START
    assert service.verify(token) == issued


def test_es256_round_trip(tmp_path: Path, clock: FrozenClock) -> None:
    service = make_service(tmp_path, clock, jwt_private_keys=p256_pem())
    token, issued = service.issue("user-1", "session-1", "user")
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert service.verify(token) == issued


def test_verify_is_fast(service: AccessTokenService) -> None:
    token, _ = service.issue("user-1", "session-1", "user")
    started = time.perf_counter()
    for _ in range(200):
        service.verify(token)
    # Ed25519 verification is ~0.1 ms here; per-call key parsing would show up.
    assert (time.perf_counter() - started) / 200 < 0.005


# --- time, read from the injected clock ---


@pytest.mark.parametrize(
    ("seconds_after_issue", "accepted"),
    [
        (0, True),
        (TTL - 1, True),
        (TTL, True),  # expired, but within the leeway
        (TTL + LEEWAY - 1, True),
        (TTL + LEEWAY, False),
        (TTL + LEEWAY + 1, False),
        (TTL + 3600, False),
    ],
)
def test_expiry_with_leeway(
    service: AccessTokenService, clock: FrozenClock, seconds_after_issue: int, accepted: bool
) -> None:
    token, issued = service.issue("user-1", "session-1", "user")
    clock.advance(timedelta(seconds=seconds_after_issue))
    if accepted:
        assert service.verify(token) == issued
    else:
        assert refused(service, token).reason == "expired"


@pytest.mark.parametrize(("skew", "accepted"), [(LEEWAY, True), (LEEWAY + 1, False)])
def test_token_from_the_future(
    tmp_path: Path, service: AccessTokenService, pem: str, skew: int, accepted: bool
) -> None:
    """A token issued ahead of our clock passes only within the leeway (iat and nbf)."""
    ahead = make_service(
        tmp_path, FrozenClock(START + timedelta(seconds=skew)), jwt_private_keys=pem
    )
    token, issued = ahead.issue("user-1", "session-1", "user")
    if accepted:
        assert service.verify(token) == issued
    else:
        assert refused(service, token).reason == "not yet valid"


def test_nbf_is_honoured(service: AccessTokenService) -> None:
    payload = claims_for(service)
    payload["nbf"] = payload["iat"] + LEEWAY + 60
    assert refused(service, sign_with_service_key(service, payload)).reason == "not yet valid"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", ["2000000000", 2e9, True, None])
def test_time_claims_must_be_integers(
    service: AccessTokenService, claim: str, value: object
) -> None:
    payload = claims_for(service)
    payload[claim] = value
    refused(service, sign_with_service_key(service, payload))


# --- issuer, audience, type ---


def test_wrong_audience(tmp_path: Path, service: AccessTokenService, pem: str) -> None:
    other = make_service(tmp_path, jwt_private_keys=pem, jwt_audience="other-api")
    token, _ = other.issue("user-1", "session-1", "user")
    assert refused(service, token).reason == "InvalidAudienceError"


def test_audience_list_is_refused(service: AccessTokenService) -> None:
    # We only issue a single audience string; strict matching leaves no room for lists.
    token = sign_with_service_key(service, claims_for(service, aud=[AUDIENCE, "other"]))
    refused(service, token)


def test_wrong_issuer(tmp_path: Path, service: AccessTokenService, pem: str) -> None:
    other = make_service(tmp_path, jwt_private_keys=pem, jwt_issuer="https://evil.test")
    token, _ = other.issue("user-1", "session-1", "user")
    assert refused(service, token).reason == "InvalidIssuerError"


@pytest.mark.parametrize("typ", ["refresh", "mfa_challenge", "email_action", "ACCESS", ""])
def test_other_token_types_are_refused(service: AccessTokenService, typ: str) -> None:
    token = sign_with_service_key(service, claims_for(service, typ=typ))
    refused(service, token)


@pytest.mark.parametrize("header_typ", ["JWT", "at+JWT", "application/at+jwt", None])
def test_header_typ_must_be_at_jwt(service: AccessTokenService, header_typ: str | None) -> None:
    # typ=None makes PyJWT leave "typ" out of the header.
    token = sign_with_service_key(service, claims_for(service), typ=header_typ)
    assert jwt.get_unverified_header(token).get("typ") == header_typ
    assert refused(service, token).reason == "wrong header typ"


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "sid", "jti", "iat", "exp", "role", "typ"])
def test_every_claim_is_required(service: AccessTokenService, claim: str) -> None:
    token = sign_with_service_key(service, claims_for(service, **{claim: None}))
    refused(service, token)


@pytest.mark.parametrize("claim", ["sub", "sid", "jti", "role"])
@pytest.mark.parametrize("value", ["", 42, ["x"]])
def test_identity_claims_must_be_non_empty_strings(
    service: AccessTokenService, claim: str, value: object
) -> None:
    token = sign_with_service_key(service, claims_for(service, **{claim: value}))
    refused(service, token)


# --- signatures, keys and algorithms ---


def test_tampered_payload(service: AccessTokenService) -> None:
    token, _ = service.issue("user-1", "session-1", "user")
    header, _, signature = token.split(".")
    forged = segment(claims_for(service, role="super_admin", sub="user-2"))
    assert refused(service, f"{header}.{forged}.{signature}").reason == "InvalidSignatureError"


def test_tampered_signature(service: AccessTokenService) -> None:
    token, _ = service.issue("user-1", "session-1", "user")
    last = "A" if token[-2] != "A" else "B"
    refused(service, token[:-2] + last + token[-1])


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none(service: AccessTokenService, alg: str) -> None:
    header = {"alg": alg, "kid": service.keys.active.kid, "typ": ACCESS_TYP}
    signing_input = f"{segment(header)}.{segment(claims_for(service))}"
    assert refused(service, signing_input + ".").reason == "malformed"  # no signature
    fake_signature = signing_input + ".c2lnbmF0dXJl"
    assert refused(service, fake_signature).reason == "algorithm does not match the key"
    refused(service, signing_input)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_with_public_key_as_secret(service: AccessTokenService, pem: str, alg: str) -> None:
    """The classic key confusion: an HMAC token keyed with our (public) PEM."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    secret = public_pem(pem).encode()
    header = {"alg": alg, "kid": service.keys.active.kid, "typ": ACCESS_TYP}
    token = forge(header, claims_for(service), lambda data: hmac.new(secret, data, digest).digest())
    assert refused(service, token).reason == "algorithm does not match the key"


def test_es256_token_cannot_claim_an_eddsa_key(tmp_path: Path, service: AccessTokenService) -> None:
    other = make_service(tmp_path, jwt_private_keys=p256_pem())
    token, _ = other.issue("user-1", "session-1", "user")
    _, payload, signature = token.split(".")
    swapped = segment({"alg": "ES256", "kid": service.keys.active.kid, "typ": ACCESS_TYP})
    refused(service, f"{swapped}.{payload}.{signature}")


def test_unknown_kid(tmp_path: Path, service: AccessTokenService) -> None:
    stranger = make_service(tmp_path, jwt_private_keys=ed25519_pem())
    token, _ = stranger.issue("user-1", "session-1", "user")
    assert refused(service, token).reason == "unknown kid"


@pytest.mark.parametrize("kid", [None, 7, ["x"]])
def test_missing_or_odd_kid(service: AccessTokenService, kid: object) -> None:
    header: dict[str, Any] = {"alg": "EdDSA", "typ": ACCESS_TYP}
    if kid is not None:
        header["kid"] = kid
    private = service.keys.active.private_key
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    refused(service, forge(header, claims_for(service), private.sign))


def test_other_key_claiming_our_kid(service: AccessTokenService) -> None:
    impostor = ed25519.Ed25519PrivateKey.generate()
    header = {"alg": "EdDSA", "kid": service.keys.active.kid, "typ": ACCESS_TYP}
    token = forge(header, claims_for(service), impostor.sign)
    assert refused(service, token).reason == "InvalidSignatureError"


@pytest.mark.parametrize(
    "extra",
    [
        {"jku": "https://evil.test/jwks.json"},
        {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}},
        {"x5u": "https://evil.test/cert.pem"},
        {"crit": ["b64"], "b64": False},
    ],
)
def test_unexpected_header_members(service: AccessTokenService, extra: dict[str, Any]) -> None:
    private = service.keys.active.private_key
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    header = {"alg": "EdDSA", "kid": service.keys.active.kid, "typ": ACCESS_TYP, **extra}
    token = forge(header, claims_for(service), private.sign)
    assert refused(service, token).reason == "unexpected header member"


# --- rotation ---


def test_rotation_with_retired_public_key(tmp_path: Path, clock: FrozenClock) -> None:
    old_pem, new_pem = ed25519_pem(), ed25519_pem()
    old = make_service(tmp_path, clock, jwt_private_keys=old_pem)
    old_token, old_claims = old.issue("user-1", "session-1", "user")

    rotated = make_service(
        tmp_path, clock, jwt_private_keys=new_pem, jwt_public_keys=public_pem(old_pem)
    )
    assert rotated.verify(old_token) == old_claims
    new_token, new_claims = rotated.issue("user-1", "session-1", "user")
    assert jwt.get_unverified_header(new_token)["kid"] == rotated.keys.active.kid
    assert rotated.keys.active.kid != old.keys.active.kid
    assert rotated.verify(new_token) == new_claims
    # The old deployment does not know the new key.
    assert refused(old, new_token).reason == "unknown kid"


def test_rotation_with_two_private_keys(tmp_path: Path, clock: FrozenClock) -> None:
    old_pem, new_pem = ed25519_pem(), p256_pem()
    old = make_service(tmp_path, clock, jwt_private_keys=old_pem)
    old_token, old_claims = old.issue("user-1", "session-1", "user")

    rotated = make_service(tmp_path, clock, jwt_private_keys=new_pem + old_pem)
    assert rotated.verify(old_token) == old_claims
    new_token, _ = rotated.issue("user-1", "session-1", "user")
    assert jwt.get_unverified_header(new_token) == {
        "alg": "ES256",
        "kid": rotated.keys.active.kid,
        "typ": ACCESS_TYP,
    }


def test_active_kid_picks_the_signer(tmp_path: Path, clock: FrozenClock) -> None:
    first, second = ed25519_pem(), ed25519_pem()
    second_kid = make_service(tmp_path, jwt_private_keys=second).keys.active.kid
    service = make_service(
        tmp_path, clock, jwt_private_keys=first + second, jwt_active_kid=second_kid
    )
    token, _ = service.issue("user-1", "session-1", "user")
    assert jwt.get_unverified_header(token)["kid"] == second_kid


def test_retired_key_tokens_still_expire(tmp_path: Path, clock: FrozenClock) -> None:
    old_pem = ed25519_pem()
    token, _ = make_service(tmp_path, clock, jwt_private_keys=old_pem).issue("u", "s", "user")
    rotated = make_service(
        tmp_path, clock, jwt_private_keys=ed25519_pem(), jwt_public_keys=public_pem(old_pem)
    )
    clock.advance(timedelta(seconds=TTL + LEEWAY))
    assert refused(rotated, token).reason == "expired"


# --- malformed input and the error itself ---


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c", "...", "a.b.c.d", "eyJ.eyJ.sig", "Bearer x.y.z", "\x00", "é.é.é"],
)
def test_garbage(service: AccessTokenService, token: str) -> None:
    refused(service, token)


def test_overlong_token_is_refused_before_parsing(service: AccessTokenService) -> None:
    token, _ = service.issue("user-1", "session-1", "user")
    payload = claims_for(service, padding="x" * MAX_TOKEN_LENGTH)
    long_token = sign_with_service_key(service, payload)
    assert len(token) < MAX_TOKEN_LENGTH < len(long_token)
    assert refused(service, long_token).reason == "malformed"


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory: pytest.TempPathFactory) -> AccessTokenService:
    # Module scope: Hypothesis runs the body many times and refuses function-scoped fixtures.
    return make_service(tmp_path_factory.mktemp("fuzz"), jwt_private_keys=ed25519_pem())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.from_regex(r"\A[A-Za-z0-9_-]{0,60}(\.[A-Za-z0-9_=-]{0,60}){2}\Z"))
def test_arbitrary_input_only_raises_invalid_access_token(
    fuzz_service: AccessTokenService, text: str
) -> None:
    with pytest.raises(InvalidAccessToken):
        fuzz_service.verify(text)


def test_error_is_generic(service: AccessTokenService) -> None:
    error = refused(service, "a.b.c")
    assert isinstance(error, UnauthenticatedError)
    assert isinstance(error, DomainError)
    assert error.code == "UNAUTHENTICATED"
    assert error.status_code == 401
    assert error.reason == "malformed"
    assert error.reason not in error.message
    expired = InvalidAccessToken(reason="expired")
    assert expired.message == error.message
    assert str(expired) == error.message


def test_private_key_not_in_repr(service: AccessTokenService) -> None:
    key = service.keys.active
    assert key.private_key is not None
    raw = key.private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert "private_key" not in repr(key)
    assert raw.hex() not in repr(key)


# --- the cache of verified tokens ---


def test_a_verified_token_still_expires(service: AccessTokenService, clock: FrozenClock) -> None:
    token, claims = service.issue("user-1", "session-1", "user")
    assert service.verify(token) == claims
    assert service.verify(token) == claims
    clock.advance(timedelta(seconds=TTL + LEEWAY))
    assert refused(service, token).reason == "expired"


def test_a_verified_token_is_refused_once_its_key_is_gone(
    tmp_path: Path, clock: FrozenClock, service: AccessTokenService
) -> None:
    token, claims = service.issue("user-1", "session-1", "user")
    assert service.verify(token) == claims
    service.keys = make_service(tmp_path, clock, jwt_private_keys=ed25519_pem()).keys
    assert refused(service, token).reason == "unknown kid"


def test_a_verified_token_vouches_for_no_other_text(service: AccessTokenService) -> None:
    token, _ = service.issue("user-1", "session-1", "user")
    service.verify(token)
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    refused(service, f"{head}.{payload}.{flipped}")
    refused(service, f"{head}.{segment({'sub': 'admin'})}.{signature}")
