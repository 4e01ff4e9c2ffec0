"""SSRF: internal targets are refused at registration and again at delivery."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.errors import ValidationError
from domain.core.settings import Settings
from domain.webhooks import ssrf
from domain.webhooks.documents import DeliveryStatus, WebhookDelivery
from domain.webhooks.ssrf import (
    WebhookTargetRefusedError,
    check_target,
    check_target_async,
    is_public_address,
    resolve_target,
)
from domain.webhooks.targets import TargetPolicy
from domain.webhooks.wiring import Webhooks
from tests.webhooks.conftest import make_webhooks
from tests.webhooks.receiver import Receiver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (CGNAT)
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "not-an-address",
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "PRIVATE_ADDRESS"),
        ("http://localhost/hook", "PRIVATE_ADDRESS"),
        ("http://[::1]/hook", "PRIVATE_ADDRESS"),
        ("http://169.254.169.254/latest/meta-data/", "PRIVATE_ADDRESS"),
        ("http://10.0.0.1/", "PRIVATE_ADDRESS"),
        ("http://0.0.0.0/", "PRIVATE_ADDRESS"),
        ("http://2130706433/", "PRIVATE_ADDRESS"),  # 127.0.0.1 written as one number
        ("http://0x7f.1/", "PRIVATE_ADDRESS"),
        ("http://[::ffff:127.0.0.1]/", "PRIVATE_ADDRESS"),
        ("ftp://93.184.215.14/", "INVALID_URL"),
        ("file:///etc/passwd", "INVALID_URL"),
        ("gopher://93.184.215.14/", "INVALID_URL"),
        ("http://user:pw@93.184.215.14/", "INVALID_URL"),
        ("http:///path-only", "INVALID_URL"),
        ("http://93.184.215.14:99999/", "INVALID_URL"),
        ("http://93.184.215.14/a b", "INVALID_URL"),
        ("http://93.184.215.14/#frag", "INVALID_URL"),
        ("not a url", "INVALID_URL"),
        ("", "INVALID_URL"),
        ("http://no-such-host.invalid/", "UNRESOLVABLE"),
    ],
)
def test_refused_targets(url: str, reason: str) -> None:
    with pytest.raises(WebhookTargetRefusedError) as caught:
        check_target(url, allow_private=False, require_https=False)
    assert caught.value.reason == reason
    assert caught.value.code == "WEBHOOK_TARGET_REFUSED"


def test_public_literal_address_is_allowed_and_https_can_be_required() -> None:
    target = resolve_target("http://93.184.215.14:8443/x", allow_private=False, require_https=False)
    assert target.addresses == ("93.184.215.14",)
    assert target.port == 8443
    with pytest.raises(WebhookTargetRefusedError) as caught:
        check_target("http://93.184.215.14/x", allow_private=False, require_https=True)
    assert caught.value.reason == "HTTPS_REQUIRED"
    check_target("https://93.184.215.14/x", allow_private=False, require_https=True)


async def test_private_targets_pass_only_with_the_setting() -> None:
    await check_target_async("http://127.0.0.1:9/hook", allow_private=True, require_https=False)
    with pytest.raises(WebhookTargetRefusedError):
        await check_target_async(
            "http://127.0.0.1:9/hook", allow_private=False, require_https=False
        )


async def test_registration_refuses_loopback_by_default(
    make_settings: Callable[..., Settings], clock: FrozenClock, clean: None, receiver: Receiver
) -> None:
    strict = make_webhooks(make_settings(), clock)
    assert TargetPolicy(make_settings()).allow_private is False
    with pytest.raises(ValidationError) as caught:
        await strict.endpoints.create(Actor.system(), receiver.url(), ["user.registered"])
    [error] = caught.value.field_errors
    assert (error.field, error.code) == ("url", "PRIVATE_ADDRESS")

    lenient = make_webhooks(make_settings(webhook_allow_private_targets=True), clock)
    endpoint, _ = await lenient.endpoints.create(
        Actor.system(), receiver.url(), ["user.registered"]
    )
    assert endpoint.url == receiver.url()


async def test_delivery_rechecks_the_target(
    make_settings: Callable[..., Settings],
    clock: FrozenClock,
    clean: None,
    receiver: Receiver,
    http: httpx.AsyncClient,
) -> None:
    """Registered while allowed; by delivery time the target is refused (as when DNS changes)."""
    lenient = make_webhooks(make_settings(webhook_allow_private_targets=True), clock)
    await lenient.endpoints.create(Actor.system(), receiver.url(), ["user.locked"])
    [delivery_id] = await lenient.publishing.emit("user.locked", {"user_id": "u1"})

    strict = make_webhooks(make_settings(webhook_retry_base_ms=100), clock)
    outcome = await strict.deliveries.deliver(delivery_id, http, Actor.system())
    assert outcome.status == "retry"
    assert receiver.requests == []
    delivery = await WebhookDelivery.get(delivery_id)
    assert delivery is not None
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code is None
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("refused: ")


def test_production_requires_https(
    make_settings: Callable[..., Settings], clock: FrozenClock
) -> None:
    production = make_settings(
        environment="production",
        jwt_private_keys="-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
        totp_encryption_key="x" * 43,
        public_url="https://auth.example.com",
    )
    assert TargetPolicy(production).require_https is True
    assert TargetPolicy(make_settings()).require_https is False
    opened = production.model_copy(update={"webhook_allow_private_targets": True})
    assert TargetPolicy(opened).require_https is False


class FakeDns:
    """Answers for made-up names; real lookups for everything else."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[str]] = {}
        self._real = socket.getaddrinfo
        monkeypatch.setattr(ssrf.socket, "getaddrinfo", self._lookup)

    def _lookup(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in self.answers:
            return self._real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in self.answers[host]
        ]


async def test_one_internal_address_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dns = FakeDns(monkeypatch)
    dns.answers["rebind.example"] = ["93.184.215.14", "127.0.0.1"]
    with pytest.raises(WebhookTargetRefusedError) as caught:
        await check_target_async(
            "https://rebind.example/hook", allow_private=False, require_https=True
        )
    assert caught.value.reason == "PRIVATE_ADDRESS"
    dns.answers["rebind.example"] = ["93.184.215.14", "2606:4700:4700::1111"]
    await check_target_async("https://rebind.example/hook", allow_private=False, require_https=True)


async def test_delivery_dials_the_checked_address_and_keeps_the_name(
    monkeypatch: pytest.MonkeyPatch,
    service: Webhooks,
    receiver: Receiver,
    http: httpx.AsyncClient,
) -> None:
    """The name resolves to a dead address first: the next checked one is tried, and the
    receiver still sees its own name in Host."""
    dns = FakeDns(monkeypatch)
    dns.answers["hooks.example"] = ["127.0.0.2", "127.0.0.1"]
    url = f"http://hooks.example:{receiver.port}/hook"
    await service.endpoints.create(Actor.system(), url, ["user.registered"])
    [delivery_id] = await service.publishing.emit("user.registered", {"user_id": "u1"})
    assert (
        await service.deliveries.deliver(delivery_id, http, Actor.system())
    ).status == "succeeded"
    [request] = receiver.requests
    assert request.headers["host"] == f"hooks.example:{receiver.port}"
