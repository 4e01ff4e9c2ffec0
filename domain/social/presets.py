"""Providers as configuration: the generic OpenID Connect provider and the presets.

A preset only fills in what is fixed for that provider (issuer, scopes, issuer rule,
response mode, how the profile is read); everything else is the generic code path.

- Google, GitLab: plain OpenID Connect; Google's ID tokens name their issuer either
  ``https://accounts.google.com`` or ``accounts.google.com`` (both are Google's).
- Microsoft (Entra ID): the multi-tenant endpoints (``common``, ``organizations``,
  ``consumers``) publish the issuer ``https://login.microsoftonline.com/{tenantid}/v2.0``;
  the ID token's ``iss`` must be that template with the token's own ``tid``.
- GitHub: OAuth2 only (no ID token); the identity is ``GET /user`` and the email is
  the verified primary one of ``GET /user/emails``, nothing else.
- Apple: OpenID Connect with ``response_mode=form_post`` (the callback receives a POST),
  a client secret that is a JWT signed with the team's key (``apple_secret.py``), and
  ``email_verified`` sent as the string ``"true"``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from domain.core.social_settings import SocialProviderSettings

IssuerRule = Callable[[str, dict[str, object]], bool]

MICROSOFT_TEMPLATE = "https://login.microsoftonline.com/{tenantid}/v2.0"
_MICROSOFT_SHARED_TENANTS = frozenset({"common", "organizations", "consumers"})


@dataclass(frozen=True, slots=True)
class OAuthEndpoints:
    """For a provider without discovery (GitHub)."""

    authorization: str
    token: str
    user: str
    emails: str


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    kind: Literal["oidc", "github"]
    settings: SocialProviderSettings
    issuer: str
    scopes: tuple[str, ...]
    accepts_issuer: IssuerRule
    response_mode: str | None = None
    endpoints: OAuthEndpoints | None = None
    extra_authorize_params: dict[str, str] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        return self.settings.client_id

    @property
    def display_name(self) -> str:
        return self.settings.display_name or self.name.capitalize()


def exact_issuer(expected: str) -> IssuerRule:
    def accepts(issuer: str, claims: dict[str, object]) -> bool:
        return issuer == expected

    return accepts


GOOGLE_ISSUER = "https://accounts.google.com"
# Google's documentation: "The value of iss in the ID token is equal to
# accounts.google.com or https://accounts.google.com".
_GOOGLE_ISSUERS = frozenset({GOOGLE_ISSUER, "accounts.google.com"})


def google_issuer(configured: str) -> IssuerRule:
    """Google's two spellings when the issuer is Google's; otherwise exactly ``configured``."""
    if configured != GOOGLE_ISSUER:
        return exact_issuer(configured)

    def accepts(issuer: str, claims: dict[str, object]) -> bool:
        return issuer in _GOOGLE_ISSUERS

    return accepts


def microsoft_issuer(tenant: str) -> IssuerRule:
    """A shared endpoint accepts any tenant's issuer, but only the one naming the
    token's own ``tid``; a single tenant accepts only its own."""

    def accepts(issuer: str, claims: dict[str, object]) -> bool:
        tid = claims.get("tid")
        if not isinstance(tid, str) or not tid:
            return False
        if tenant not in _MICROSOFT_SHARED_TENANTS and tid != tenant:
            return False
        return issuer == MICROSOFT_TEMPLATE.format(tenantid=tid)

    return accepts


GITHUB = OAuthEndpoints(
    authorization="https://github.com/login/oauth/authorize",
    token="https://github.com/login/oauth/access_token",
    user="https://api.github.com/user",
    emails="https://api.github.com/user/emails",
)


def build_provider(name: str, settings: SocialProviderSettings) -> Provider:
    """Raises ValueError for a provider whose settings cannot work."""
    preset = settings.preset
    scopes = tuple(settings.scopes) if settings.scopes else ("openid", "email", "profile")
    if preset == "github":
        return Provider(
            name=name,
            kind="github",
            settings=settings,
            issuer="https://github.com",
            scopes=tuple(settings.scopes) if settings.scopes else ("read:user", "user:email"),
            accepts_issuer=exact_issuer("https://github.com"),
            endpoints=GITHUB,
        )
    if preset == "microsoft":
        tenant = settings.tenant or "common"
        issuer = settings.issuer or f"https://login.microsoftonline.com/{tenant}/v2.0"
        return Provider(name, "oidc", settings, issuer, scopes, microsoft_issuer(tenant))
    if preset == "apple":
        if not (settings.apple_team_id and settings.apple_key_id and settings.apple_private_key):
            raise ValueError(f"{name}: Apple needs apple_team_id, apple_key_id, apple_private_key")
        issuer = settings.issuer or "https://appleid.apple.com"
        return Provider(
            name,
            "oidc",
            settings,
            issuer,
            tuple(settings.scopes) if settings.scopes else ("openid", "email", "name"),
            exact_issuer(issuer),
            response_mode="form_post",
        )
    defaults = {"google": GOOGLE_ISSUER, "gitlab": "https://gitlab.com"}
    issuer = (settings.issuer or defaults.get(preset, "")).rstrip("/")
    if not issuer:
        raise ValueError(f"{name}: a generic OpenID Connect provider needs an issuer")
    rule = google_issuer(issuer) if preset == "google" else exact_issuer(issuer)
    return Provider(name, "oidc", settings, issuer, scopes, rule)


def build_providers(configured: dict[str, SocialProviderSettings]) -> dict[str, Provider]:
    """The enabled providers, by name."""
    return {
        name: build_provider(name, settings)
        for name, settings in configured.items()
        if settings.enabled
    }
