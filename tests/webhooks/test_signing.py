"""The signature scheme and the receivers' copyable verification helper."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import textwrap
from collections.abc import Callable

import pytest

from domain.webhooks.signing import sign, signature_header, verify_signature

SECRET = "whsec_test-secret"
BODY = b'{"id":"abc","type":"user.registered","created_at":"2026-01-01T00:00:00.000Z","data":{}}'
NOW = 1_780_000_000


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == expected
    assert signature_header([SECRET], NOW, BODY) == f"v1={expected}"
    two = signature_header(["new", "old"], NOW, BODY)
    assert two == f"v1={sign('new', NOW, BODY)}, v1={sign('old', NOW, BODY)}"


def _standalone_verify() -> Callable[..., bool]:
    """The helper exactly as a user copies it: its source, standard library only."""
    source = textwrap.dedent(inspect.getsource(verify_signature))
    namespace: dict[str, object] = {}
    exec("import hashlib\nimport hmac\nimport time\n" + source, namespace)
    function = namespace["verify_signature"]
    assert callable(function)
    assert function is not verify_signature
    return function


@pytest.fixture(params=["module", "copied"])
def verify(request: pytest.FixtureRequest) -> Callable[..., bool]:
    return verify_signature if request.param == "module" else _standalone_verify()


def test_accepts_a_good_signature(verify: Callable[..., bool]) -> None:
    header = signature_header([SECRET], NOW, BODY)
    assert verify(SECRET, header, str(NOW), BODY, now=NOW)
    assert verify(SECRET, header, str(NOW), BODY, 300, NOW + 299)


def test_accepts_either_secret_during_rotation(verify: Callable[..., bool]) -> None:
    header = signature_header(["whsec_new", "whsec_old"], NOW, BODY)
    assert verify("whsec_new", header, str(NOW), BODY, now=NOW)
    assert verify("whsec_old", header, str(NOW), BODY, now=NOW)
    assert not verify("whsec_other", header, str(NOW), BODY, now=NOW)


def test_rejects_tampering_age_and_wrong_secret(verify: Callable[..., bool]) -> None:
    header = signature_header([SECRET], NOW, BODY)
    assert not verify(SECRET, header, str(NOW), BODY.replace(b"abc", b"abd"), now=NOW)
    assert not verify(SECRET, header, str(NOW), BODY, now=NOW + 301)  # too old: a replay
    assert not verify(SECRET, header, str(NOW), BODY, now=NOW - 301)  # from the future
    assert not verify("whsec_wrong", header, str(NOW), BODY, now=NOW)
    # The timestamp is signed: moving it forward to pass the age check breaks the signature.
    assert not verify(SECRET, header, str(NOW + 1000), BODY, now=NOW + 1000)


@pytest.mark.parametrize(
    ("header", "timestamp"),
    [
        ("", str(NOW)),
        ("v1=", str(NOW)),
        ("garbage", str(NOW)),
        (f"v0={sign(SECRET, NOW, BODY)}", str(NOW)),
        (f"v1={sign(SECRET, NOW, BODY)}", "not-a-number"),
        (f"v1={sign(SECRET, NOW, BODY)}", ""),
        (f"v1={sign(SECRET, NOW, BODY)}", f"-{NOW}"),
        (f"v1={sign(SECRET, NOW, BODY)}", f" {NOW}"),
    ],
)
def test_rejects_malformed_input(verify: Callable[..., bool], header: str, timestamp: str) -> None:
    assert not verify(SECRET, header, timestamp, BODY, now=NOW)


def test_uses_the_current_time_by_default() -> None:
    import time

    now = int(time.time())
    assert verify_signature(SECRET, signature_header([SECRET], now, BODY), str(now), BODY)
    old = now - 3600
    assert not verify_signature(SECRET, signature_header([SECRET], old, BODY), str(old), BODY)
