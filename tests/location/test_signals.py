"""The pure parts of the location signals: the country of an address, the distance
between two countries, the verdicts read from an account's history, device labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.location.countries import countries, country_name, distance_km
from domain.location.lookup import country_of
from domain.location.signals import (
    MAX_KNOWN_COUNTRIES,
    NO_LOCATION,
    LocationHistory,
    assess,
)
from domain.sessions.device import device_label

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LIMITS = {"max_speed_kmh": 1000, "tolerance_km": 500}


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("85.214.132.117", "DE"),
        ("::ffff:85.214.132.117", "DE"),  # an IPv4 client on a dual-stack socket
        ("8.8.8.8", "US"),
        ("1.0.16.1", "JP"),
        (" 90.0.0.1 ", "FR"),
        # No country: private, loopback, shared, documentation, link-local, not an address.
        ("10.1.2.3", None),
        ("127.0.0.1", None),
        ("::1", None),
        ("100.64.0.1", None),
        ("203.0.113.7", None),
        ("fe80::1", None),
        ("", None),
        ("not an address", None),
        ("1" * 10_000, None),
    ],
)
def test_the_country_of_an_address(ip: str, country: str | None) -> None:
    assert country_of(ip) == country


def test_the_table_names_and_places_countries() -> None:
    table = countries()
    assert len(table) > 230
    assert country_name("DE") == "Germany"
    assert country_name("JP") == "Japan"
    assert country_name("EU") == "EU"  # a registry block the table does not have
    assert "AT" in table["DE"].neighbours
    assert "DE" in table["AT"].neighbours
    for country in table.values():
        assert len(country.code) == 2
        assert country.code.isupper()
        assert all(-90 <= lat <= 90 and -180 <= lon <= 180 for lat, lon in country.points)


def test_distances_between_countries() -> None:
    assert distance_km("DE", "DE") == 0
    assert distance_km("DE", "AT") == 0  # land neighbours: a border crossing
    assert distance_km("DE", "EU") is None
    # Between the nearest reference points (centroid or capital): Washington to London
    # for the United States and the United Kingdom, not the middle of Kansas.
    us_gb = distance_km("US", "GB")
    assert us_gb is not None
    assert 5500 < us_gb < 6000
    de_jp = distance_km("DE", "JP")
    assert de_jp is not None
    assert 8500 < de_jp < 9500
    assert distance_km("JP", "DE") == de_jp


def test_the_first_country_is_learnt_silently() -> None:
    seen = assess(LocationHistory(), "DE", NOW, **LIMITS)
    assert (seen.country, seen.new_country, seen.travel, seen.risky) == ("DE", False, None, False)
    assert seen.remembered == {
        "known_countries": ["DE"],
        "last_country": "DE",
        "last_country_at": NOW,
    }


def test_a_new_country_and_a_known_one() -> None:
    history = LocationHistory(["DE", "FR"], "FR", NOW - timedelta(days=3))
    new = assess(history, "JP", NOW, **LIMITS)
    assert new.new_country
    assert new.travel is None
    assert new.risky
    assert new.remembered["known_countries"] == ["DE", "FR", "JP"]
    known = assess(history, "DE", NOW, **LIMITS)
    assert not known.risky
    assert known.remembered["known_countries"] == ["FR", "DE"]  # most recent last


def test_impossible_travel_needs_more_than_the_speed_allows() -> None:
    history = LocationHistory(["DE"], "DE", NOW - timedelta(hours=1))
    flown = assess(history, "JP", NOW, **LIMITS)
    assert flown.travel is not None
    assert flown.travel.previous_country == "DE"
    assert flown.travel.previous_at == NOW - timedelta(hours=1)
    assert flown.travel.minutes == 60
    assert 8500 < flown.travel.distance_km < 9500
    # Nine hours later the same journey is a long flight, not impossible.
    later = LocationHistory(["DE"], "DE", NOW - timedelta(hours=9))
    assert assess(later, "JP", NOW, **LIMITS).travel is None
    # Neighbours never are, however soon; nor far countries within the tolerance.
    assert assess(history, "AT", NOW, **LIMITS).travel is None
    assert assess(history, "JP", NOW, max_speed_kmh=1000, tolerance_km=9500).travel is None
    # A clock that went backwards is no time at all, not a negative one.
    future = LocationHistory(["DE"], "DE", NOW + timedelta(minutes=5))
    travel = assess(future, "US", NOW, **LIMITS).travel
    assert travel is not None
    assert travel.minutes == 0


def test_no_country_gives_no_signal_and_changes_nothing() -> None:
    history = LocationHistory(["DE"], "DE", NOW - timedelta(minutes=1))
    assert assess(history, None, NOW, **LIMITS) is NO_LOCATION
    assert NO_LOCATION.remembered == {}


def test_the_history_is_bounded() -> None:
    codes = [code for code in sorted(countries()) if code != "DE"][:MAX_KNOWN_COUNTRIES]
    history = LocationHistory(codes, codes[-1], NOW - timedelta(days=30))
    remembered = assess(history, "DE", NOW, **LIMITS).remembered["known_countries"]
    assert isinstance(remembered, list)
    assert len(remembered) == MAX_KNOWN_COUNTRIES
    assert remembered[-1] == "DE"
    assert codes[0] not in remembered


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Safari/605.1.15",
            "Safari on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
        ("x" * 100_000, "Unknown device"),
    ],
)
def test_device_labels_come_from_ua_parser(user_agent: str, label: str) -> None:
    assert device_label(user_agent) == label
