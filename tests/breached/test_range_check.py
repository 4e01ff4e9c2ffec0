"""The k-anonymity range check against a real HTTP server on 127.0.0.1: what is sent,
how the answer is read, and what a slow or failing API means for each policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.breached.bloom_list import build, password_digest
from domain.breached.checker import BREACHED_CODE, UNAVAILABLE_CODE, BreachedPasswords, Verdict
from domain.breached.range_check import (
    RangeCheck,
    RangeUnavailableError,
    range_http_client,
    suffix_listed,
)
from tests.support.range_api import RangeApi, sha1_hex

ONLINE = "amber glacier hums tunes 4461"
OFFLINE = "velvet canyon drifts slowly 92"
FRESH = "silent orchard paints rivers 58"


@pytest.fixture
def api() -> Iterator[RangeApi]:
    server = RangeApi([ONLINE]).start()
    yield server
    server.stop()


def checker(api: RangeApi, *, timeout: float = 2.0, fail_closed: bool = False) -> BreachedPasswords:
    offline = build([password_digest(OFFLINE)], 1)
    check = RangeCheck(api.url, range_http_client(timeout), timeout)
    return BreachedPasswords([offline], range_check=check, fail_closed=fail_closed)


def test_padding_lines_and_zero_counts_do_not_match() -> None:
    body = b"0018A45C4D1DEF81644B54AB7F969B88D65:1\r\nABCDEF0123456789ABCDEF0123456789ABC:0\r\n"
    assert suffix_listed(body, "0018A45C4D1DEF81644B54AB7F969B88D65")
    assert not suffix_listed(body, "ABCDEF0123456789ABCDEF0123456789ABC")
    assert not suffix_listed(body, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")


async def test_only_five_hex_digits_leave_the_server_with_padding_asked(api: RangeApi) -> None:
    check = checker(api)
    assert await check.verdict(ONLINE) is Verdict.BREACHED
    assert await check.verdict(FRESH) is Verdict.NOT_FOUND
    await check.aclose()
    sent = [path for path, _ in api.seen]
    assert sent == [f"/range/{sha1_hex(ONLINE)[:5]}", f"/range/{sha1_hex(FRESH)[:5]}"]
    assert all(headers.get("Add-Padding") == "true" for _, headers in api.seen)


async def test_the_offline_list_answers_without_calling_out(api: RangeApi) -> None:
    check = checker(api)
    assert await check.verdict(OFFLINE) is Verdict.BREACHED
    await check.aclose()
    assert api.seen == []


async def test_a_slow_api_times_out_as_unknown(api: RangeApi) -> None:
    api.delay_seconds = 1.0
    check = checker(api, timeout=0.2)
    assert await check.verdict(ONLINE) is Verdict.UNKNOWN
    await check.aclose()


@pytest.mark.parametrize("status", [500, 429, 404])
async def test_an_error_answer_is_unknown(api: RangeApi, status: int) -> None:
    api.status = status
    check = RangeCheck(api.url, range_http_client(1.0), 1.0)
    with pytest.raises(RangeUnavailableError):
        await check.is_listed(sha1_hex(ONLINE))
    await check.aclose()


async def test_fail_closed_refuses_a_new_password_it_could_not_check(api: RangeApi) -> None:
    api.delay_seconds = 1.0
    closed = checker(api, timeout=0.2, fail_closed=True)
    problems = await closed.new_password_problems(FRESH, "newPassword")
    assert [(p.field, p.code) for p in problems] == [("newPassword", UNAVAILABLE_CODE)]
    # The offline list still answers for what it knows, with its own code.
    listed = await closed.new_password_problems(OFFLINE, "newPassword")
    assert [p.code for p in listed] == [BREACHED_CODE]
    await closed.aclose()


async def test_fail_open_accepts_a_new_password_it_could_not_check(api: RangeApi) -> None:
    api.delay_seconds = 1.0
    opened = checker(api, timeout=0.2, fail_closed=False)
    assert await opened.new_password_problems(FRESH, "newPassword") == []
    await opened.aclose()


async def test_an_unreachable_api_is_unknown() -> None:
    from tests.social.slow_provider import closed_port

    check = RangeCheck(f"http://127.0.0.1:{closed_port()}", range_http_client(1.0), 1.0)
    with pytest.raises(RangeUnavailableError):
        await check.is_listed(sha1_hex(ONLINE))
    await check.aclose()
