"""What the authorization endpoint decides, and small helpers around the subject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.common.urls import add_params_to_uri  # type: ignore[import-untyped]

from domain.identity.documents import User
from domain.oauth.documents import OAuthClient
from domain.oauth.server import HttpResponse
from domain.oauth.store import Challenge, Subject


@dataclass(frozen=True, slots=True)
class Redirect:
    location: str


@dataclass(frozen=True, slots=True)
class ErrorPage:
    """A request that cannot be sent back to the client (unknown client, unregistered
    redirect URI): shown to the person, never redirected (RFC 6749 §4.1.2.1)."""

    message: str


@dataclass(frozen=True, slots=True)
class NeedSignIn:
    challenge: Challenge


@dataclass(frozen=True, slots=True)
class NeedConsent:
    challenge: Challenge
    client: OAuthClient
    scopes: list[str]


AuthorizeOutcome = Redirect | ErrorPage | NeedSignIn | NeedConsent


def fields_of(subject: Subject) -> dict[str, Any]:
    return {name: getattr(subject, name) for name in Subject.__dataclass_fields__}


def must_sign_in_again(subject: Subject, prompts: set[str], data: dict[str, Any], now: int) -> bool:
    """``prompt=login``, or a sign-in older than the request's ``max_age``."""
    if "login" in prompts:
        return True
    max_age = str(data.get("max_age", ""))
    return max_age.isdigit() and now - subject.auth_time > int(max_age)


def with_profile(subject: Subject, user: User) -> Subject:
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return Subject(
        **{
            **fields_of(subject),
            "email": user.email,
            "email_verified": user.email_verified,
            "name": name,
        }
    )


def outcome_of(response: HttpResponse, issuer: str) -> AuthorizeOutcome:
    """A redirect back to the client (a code or an error) names the issuer (RFC 9207 §2:
    ``iss`` in every authorization response), so a client talking to several providers
    can tell which one answered (mix-up, RFC 9700 §4.4)."""
    if response.status == 302:
        location = dict(response.headers).get("Location", "")
        return Redirect(add_params_to_uri(location, {"iss": issuer}))
    body = response.body if isinstance(response.body, dict) else {}
    return ErrorPage(str(body.get("error_description") or body.get("error") or "Invalid request."))
