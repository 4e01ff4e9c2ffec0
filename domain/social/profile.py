"""What a provider says about the person: one shape for every provider.

Only an email the provider itself marks verified counts as verified: OpenID Connect's
``email_verified`` (``true``, or Apple's string ``"true"``), or for GitHub the primary
address of ``/user/emails`` with ``verified: true`` (the public profile's email is
ignored: it need not be verified, nor the account's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    provider: str
    subject: str
    email: str | None
    email_verified: bool
    given_name: str
    family_name: str
    picture: str | None
    # The provider says the person used a second factor (``amr`` holds "mfa").
    mfa_asserted: bool = False

    @property
    def key(self) -> str:
        return identity_key(self.provider, self.subject)


def identity_key(provider: str, subject: str) -> str:
    return f"{provider}:{subject}"


def _text(value: object, limit: int = 100) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _verified(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _names(given: str, family: str, full: str, email: str | None) -> tuple[str, str]:
    if given or family:
        return given, family
    if full:
        first, _, rest = full.partition(" ")
        return first, rest
    return (email.split("@", 1)[0][:100] if email else "", "")


def from_oidc_claims(provider: str, claims: dict[str, Any]) -> ExternalIdentity:
    email = _text(claims.get("email"), 320).lower() or None
    given, family = _names(
        _text(claims.get("given_name")),
        _text(claims.get("family_name")),
        _text(claims.get("name")),
        email,
    )
    amr = claims.get("amr")
    picture = claims.get("picture")
    return ExternalIdentity(
        provider=provider,
        subject=str(claims["sub"]),
        email=email,
        email_verified=_verified(claims.get("email_verified")),
        given_name=given,
        family_name=family,
        picture=picture if isinstance(picture, str) and picture.startswith("https://") else None,
        mfa_asserted=isinstance(amr, list) and "mfa" in amr,
    )


def from_github(
    provider: str, user: dict[str, Any], emails: list[dict[str, Any]]
) -> ExternalIdentity:
    primary = next(
        (e for e in emails if e.get("primary") is True and e.get("verified") is True), None
    )
    email = _text(primary.get("email"), 320).lower() if primary else None
    given, family = _names("", "", _text(user.get("name")), email)
    avatar = user.get("avatar_url")
    return ExternalIdentity(
        provider=provider,
        subject=str(user["id"]),
        email=email or None,
        email_verified=primary is not None,
        given_name=given or _text(user.get("login")),
        family_name=family,
        picture=avatar if isinstance(avatar, str) and avatar.startswith("https://") else None,
    )
