"""What a completed sign-in tells its owner about where it came from.

``SignInLocations.assess`` reads the country of the client's address against the
account's history (signals.py); ``announce`` then audits each risk signal
(``security.new_country_sign_in``, ``security.impossible_travel``: in the owner's
``mySecurityEvents`` and, through the audit trail, webhooks) and sends at most one email:
the unusual-sign-in alert when a signal fired, else the new-device notice, which names
the country when there is one ("Firefox on Linux, from Germany").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.location.countries import country_name
from domain.location.lookup import country_of
from domain.location.signals import (
    NO_LOCATION,
    ImpossibleTravel,
    LocationAssessment,
    LocationHistory,
    assess,
)

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True, slots=True)
class Recipient:
    """The account a sign-in opened, as the notices need it."""

    user_id: str
    email: str
    name: str


def _where(country: str | None) -> str:
    """The country for an email ("Germany (DE)"); empty when there is none."""
    return f"{country_name(country)} ({country})" if country else ""


class SignInLocations:
    def __init__(self, settings: Settings, audit: AuditService, mailer: Outbox) -> None:
        self._settings = settings
        self._audit = audit
        self._mailer = mailer

    def assess(self, history: LocationHistory, ip: str, now: datetime) -> LocationAssessment:
        if not self._settings.location_signals_enabled:
            return NO_LOCATION
        return assess(
            history,
            country_of(ip),
            now,
            max_speed_kmh=self._settings.location_max_travel_speed_kmh,
            tolerance_km=self._settings.location_travel_tolerance_km,
        )

    def forces_second_factor(self, assessment: LocationAssessment) -> bool:
        """Whether this sign-in must answer the account's second factor even on a device
        the account trusts (accounts without a factor are only alerted)."""
        return self._settings.location_new_country_requires_second_factor and (
            assessment.new_country
        )

    async def announce(
        self,
        owner: Recipient,
        actor: Actor,
        assessment: LocationAssessment,
        *,
        device: str,
        new_device: bool,
        now: datetime,
        multi_factor: bool,
    ) -> None:
        """Audit the signals and send the owner at most one email (none for a known
        device in a known country)."""
        acting = actor.as_user(owner.user_id)
        country = assessment.country
        if assessment.new_country:
            await self._audit.record(
                "security.new_country_sign_in",
                AuditAction.SECURITY,
                actor=acting,
                target_id=owner.user_id,
                details={
                    "country": country,
                    "country_name": country_name(country or ""),
                    "mfa": multi_factor,
                },
            )
        if assessment.travel is not None:
            await self._audit.record(
                "security.impossible_travel",
                AuditAction.SECURITY,
                actor=acting,
                target_id=owner.user_id,
                details=_travel_details(country, assessment.travel),
            )
        common = {
            "name": owner.name,
            "device": device,
            "ip": actor.ip,
            "location": _where(country),
            "when": now.strftime(TIME_FORMAT),
        }
        if assessment.risky:
            travel = assessment.travel
            await self._mailer.send(
                "unusual_sign_in",
                owner.email,
                user_id=owner.user_id,
                **common,
                new_country=assessment.new_country,
                previous_location=_where(travel.previous_country) if travel else "",
                previous_when=travel.previous_at.strftime(TIME_FORMAT) if travel else "",
                distance_km=travel.distance_km if travel else 0,
            )
        elif new_device:
            await self._mailer.send(
                "new_device_login", owner.email, user_id=owner.user_id, **common
            )


def _travel_details(country: str | None, travel: ImpossibleTravel) -> dict[str, object]:
    return {
        "country": country,
        "previous_country": travel.previous_country,
        "previous_at": travel.previous_at,
        "distance_km": travel.distance_km,
        "minutes": travel.minutes,
    }
