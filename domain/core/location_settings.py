"""The settings of the sign-in location signals (domain/location/), kept beside the main
settings and mixed into them (``GATEHOUSE_LOCATION_*``), as social_settings.py is."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LocationSettings(BaseModel):
    # Look up the country of each sign-in's address (offline) for the new-device email
    # and the risk signals; off: no country is looked up or kept.
    location_signals_enabled: bool = True
    # A sign-in from a country new to the account must answer its second factor even on
    # a trusted device (accounts without a factor are alerted only).
    location_new_country_requires_second_factor: bool = False
    # Two sign-ins farther apart than this speed allows (plus the tolerance, for the
    # spread of a country) are impossible travel. Airliners cruise at ~900 km/h.
    location_max_travel_speed_kmh: int = Field(default=1000, ge=100, le=20_000)
    location_travel_tolerance_km: int = Field(default=500, ge=0, le=5_000)
