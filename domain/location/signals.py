"""The risk signals of a sign-in's country, read against the account's own history.

Pure: the history is three fields the sign-in already writes on the user (the countries
signed in from, the last one and when), so the signals cost no read and no extra write.

- new country: the account has signed in from at least one country before, and never
  from this one. The first country an account is seen in is learnt silently.
- impossible travel: the last sign-in with a country was in another country, and
  getting from there to here in the time between needs more than the settings' speed,
  after the tolerance. One country and land neighbours never are (countries.py).

An address without a country (private, loopback, unknown) gives no signal and leaves the
history as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.location.countries import distance_km

# Enough for a traveller's year; the oldest country is forgotten first.
MAX_KNOWN_COUNTRIES = 20


@dataclass(frozen=True, slots=True)
class LocationHistory:
    known_countries: Sequence[str] = ()
    last_country: str | None = None
    last_country_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ImpossibleTravel:
    previous_country: str
    previous_at: datetime
    distance_km: int
    minutes: int


@dataclass(frozen=True, slots=True)
class LocationAssessment:
    country: str | None = None
    new_country: bool = False
    travel: ImpossibleTravel | None = None
    # The user fields the sign-in writes with its own update (empty: nothing changes).
    remembered: dict[str, object] = field(default_factory=dict)

    @property
    def risky(self) -> bool:
        return self.new_country or self.travel is not None


NO_LOCATION = LocationAssessment()


def travel_between(
    previous: str,
    previous_at: datetime,
    country: str,
    now: datetime,
    *,
    max_speed_kmh: int,
    tolerance_km: int,
) -> ImpossibleTravel | None:
    """The impossible journey from ``previous`` to ``country``, or None if it can be made."""
    distance = distance_km(previous, country)
    if distance is None or distance <= tolerance_km:
        return None
    hours = max(0.0, (now - previous_at).total_seconds() / 3600)
    if distance - tolerance_km <= max_speed_kmh * hours:
        return None
    return ImpossibleTravel(previous, previous_at, round(distance), int(hours * 60))


def assess(
    history: LocationHistory,
    country: str | None,
    now: datetime,
    *,
    max_speed_kmh: int,
    tolerance_km: int,
) -> LocationAssessment:
    if country is None:
        return NO_LOCATION
    known = list(history.known_countries)
    new_country = bool(known) and country not in known
    travel = None
    if history.last_country and history.last_country_at and history.last_country != country:
        travel = travel_between(
            history.last_country,
            history.last_country_at,
            country,
            now,
            max_speed_kmh=max_speed_kmh,
            tolerance_km=tolerance_km,
        )
    if not known or known[-1] != country:
        known = [*(c for c in known if c != country), country][-MAX_KNOWN_COUNTRIES:]
    remembered: dict[str, object] = {
        "known_countries": known,
        "last_country": country,
        "last_country_at": now,
    }
    return LocationAssessment(country, new_country, travel, remembered)
