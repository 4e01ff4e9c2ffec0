"""The provider presets as pure logic (no provider, no database): Google's two issuer
spellings, Microsoft's ``{tenantid}`` issuer rule, GitHub's verified primary email only,
Apple's ES256 client secret, and the ID token's claim checks they feed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey

from domain.core.social_settings import SocialProviderSettings
from domain.social.apple_secret import APPLE_AUDIENCE, LIFETIME_SECONDS, apple_client_secret
from domain.social.errors import SocialFailure, SocialSignInFailedError
from domain.social.id_token import InvalidIdTokenError, check_claims
from domain.social.presets import GITHUB, Provider, build_provider, build_providers
from domain.social.profile import from_github, from_oidc_claims
from domain.social.prove import check_email

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MICROSOFT = "https://login.microsoftonline.com/{tid}/v2.0"
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
OTHER_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def provider(preset: str = "oidc", **settings: Any) -> Provider:
    values: dict[str, Any] = {"preset": preset, "client_id": "client-1", **settings}
    return build_provider(preset, SocialProviderSettings(**values))


def claims(**changes: Any) -> dict[str, Any]:
    moment = int(NOW.timestamp())
    values: dict[str, Any] = {
        "iss": "https://accounts.google.com",
        "aud": "client-1",
        "sub": "1234",
        "iat": moment,
        "exp": moment + 3600,
        "nonce": "the-nonce",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def refused(subject: Provider, token_claims: dict[str, Any]) -> str:
    with pytest.raises(InvalidIdTokenError) as raised:
        check_claims(token_claims, subject, nonce="the-nonce", now=NOW)
    return str(raised.value)


# --- Google -----------------------------------------------------------------------


@pytest.mark.parametrize("issuer", ["https://accounts.google.com", "accounts.google.com"])
def test_google_accepts_both_of_its_issuer_spellings(issuer: str) -> None:
    google = provider("google")
    assert google.issuer == "https://accounts.google.com"
    check_claims(claims(iss=issuer), google, nonce="the-nonce", now=NOW)


@pytest.mark.parametrize(
    "issuer", ["https://accounts.google.com/", "http://accounts.google.com", "https://evil.example"]
)
def test_google_accepts_no_other_issuer(issuer: str) -> None:
    assert refused(provider("google"), claims(iss=issuer)) == "iss"


def test_the_bare_spelling_is_googles_alone() -> None:
    # A generic provider configured with Google's issuer keeps the exact rule, and a
    # Google preset pointed elsewhere (a test double) accepts only that issuer.
    generic = provider("oidc", issuer="https://accounts.google.com")
    assert refused(generic, claims(iss="accounts.google.com")) == "iss"
    elsewhere = provider("google", issuer="https://idp.example.com/")
    assert elsewhere.issuer == "https://idp.example.com"
    check_claims(claims(iss="https://idp.example.com"), elsewhere, nonce="the-nonce", now=NOW)
    assert refused(elsewhere, claims(iss="accounts.google.com")) == "iss"


# --- Microsoft --------------------------------------------------------------------


@pytest.mark.parametrize("shared", ["common", "organizations", "consumers"])
def test_a_shared_microsoft_endpoint_accepts_the_tokens_own_tenant(shared: str) -> None:
    microsoft = provider("microsoft", tenant=shared)
    assert microsoft.issuer == f"https://login.microsoftonline.com/{shared}/v2.0"
    for tenant in (TENANT, OTHER_TENANT):
        token = claims(iss=MICROSOFT.format(tid=tenant), tid=tenant)
        check_claims(token, microsoft, nonce="the-nonce", now=NOW)


@pytest.mark.parametrize(
    "token",
    [
        # Another tenant's issuer than the token's own tid.
        claims(iss=MICROSOFT.format(tid=OTHER_TENANT), tid=TENANT),
        # The template itself, never a real issuer.
        claims(iss="https://login.microsoftonline.com/{tenantid}/v2.0", tid=TENANT),
        # No tid, or an empty one: nothing to fill the template with.
        claims(iss=MICROSOFT.format(tid=TENANT)),
        claims(iss="https://login.microsoftonline.com//v2.0", tid=""),
        # The v1 issuer, and a look-alike host.
        claims(iss=f"https://sts.windows.net/{TENANT}/", tid=TENANT),
        claims(iss=f"https://login.microsoftonline.com.evil.example/{TENANT}/v2.0", tid=TENANT),
    ],
)
def test_the_microsoft_issuer_must_name_the_tokens_tenant(token: dict[str, Any]) -> None:
    assert refused(provider("microsoft"), token) == "iss"


def test_a_single_tenant_accepts_only_itself() -> None:
    single = provider("microsoft", tenant=TENANT)
    assert single.issuer == MICROSOFT.format(tid=TENANT)
    check_claims(
        claims(iss=MICROSOFT.format(tid=TENANT), tid=TENANT), single, nonce="the-nonce", now=NOW
    )
    other = claims(iss=MICROSOFT.format(tid=OTHER_TENANT), tid=OTHER_TENANT)
    assert refused(single, other) == "iss"


# --- GitHub -----------------------------------------------------------------------


def test_github_is_oauth2_with_its_api() -> None:
    github = provider("github", client_secret="s")
    assert (github.kind, github.endpoints) == ("github", GITHUB)
    assert github.scopes == ("read:user", "user:email")


def email(address: str, *, primary: bool, verified: bool) -> dict[str, Any]:
    return {"email": address, "primary": primary, "verified": verified, "visibility": None}


USER = {"id": 42, "login": "octo", "name": "Mona Lisa Octocat", "email": "public@example.com"}


def test_github_takes_the_verified_primary_email() -> None:
    emails = [
        email("other@example.com", primary=False, verified=True),
        email("Primary@Example.com", primary=True, verified=True),
    ]
    identity = from_github("github", USER, emails)
    assert (identity.subject, identity.email, identity.email_verified) == (
        "42",
        "primary@example.com",
        True,
    )
    assert (identity.given_name, identity.family_name) == ("Mona", "Lisa Octocat")


@pytest.mark.parametrize(
    "emails",
    [
        # The primary address unverified: a verified secondary one does not stand in.
        [
            email("primary@example.com", primary=True, verified=False),
            email("other@example.com", primary=False, verified=True),
        ],
        # A verified address that is not the primary one.
        [email("other@example.com", primary=False, verified=True)],
        # No address at all (the public profile's email is never used).
        [],
        # "verified" must be the boolean true, not a string.
        [{"email": "primary@example.com", "primary": True, "verified": "true"}],
    ],
)
def test_github_without_a_verified_primary_email_has_none(emails: list[dict[str, Any]]) -> None:
    identity = from_github("github", USER, emails)
    assert (identity.email, identity.email_verified) == (None, False)
    with pytest.raises(SocialSignInFailedError) as raised:
        check_email(provider("github", client_secret="s"), identity, need_verified=True)
    assert raised.value.reason is SocialFailure.EMAIL_MISSING


# --- Apple ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def apple_key() -> ECKey:
    return ECKey.generate_key("P-256")


def apple(key: ECKey) -> Provider:
    return provider(
        "apple",
        client_id="com.example.web",
        apple_team_id="TEAM123456",
        apple_key_id="KEY1234567",
        apple_private_key=key.as_pem(private=True).decode(),
    )


def test_apple_uses_form_post_and_its_scopes(apple_key: ECKey) -> None:
    subject = apple(apple_key)
    assert (subject.issuer, subject.response_mode) == ("https://appleid.apple.com", "form_post")
    assert subject.scopes == ("openid", "email", "name")


def test_apples_client_secret_is_an_es256_jwt_with_its_claims(apple_key: ECKey) -> None:
    secret = apple_client_secret(apple(apple_key), NOW)
    public = ECKey.import_key(apple_key.as_dict(private=False))
    decoded = jwt.decode(secret, public, algorithms=["ES256"])
    assert (decoded.header["alg"], decoded.header["kid"]) == ("ES256", "KEY1234567")
    moment = int(NOW.timestamp())
    assert decoded.claims == {
        "iss": "TEAM123456",
        "sub": "com.example.web",
        "aud": APPLE_AUDIENCE,
        "iat": moment,
        "exp": moment + LIFETIME_SECONDS,
    }
    assert APPLE_AUDIENCE == "https://appleid.apple.com"
    # Another key does not verify it.
    with pytest.raises(BadSignatureError):
        jwt.decode(secret, ECKey.generate_key("P-256"), algorithms=["ES256"])


def test_apple_needs_its_key_settings() -> None:
    with pytest.raises(ValueError, match="apple_private_key"):
        provider("apple", apple_team_id="TEAM123456")


@pytest.mark.parametrize(("sent", "verified"), [("true", True), (True, True), ("false", False)])
def test_apples_email_verified_is_a_string(sent: object, verified: bool) -> None:
    identity = from_oidc_claims(
        "apple", claims(email="a@privaterelay.appleid.com", email_verified=sent)
    )
    assert identity.email_verified is verified


# --- the claim checks every OpenID Connect preset shares ------------------------------


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"aud": "another-client"}, "aud"),
        ({"aud": ["another-client", "client-2"]}, "aud"),
        ({"aud": ["client-1", "another-client"]}, "azp"),  # several audiences need azp
        ({"aud": ["client-1", "another-client"], "azp": "another-client"}, "azp"),
        ({"azp": "another-client"}, "azp"),
        ({"exp": int(NOW.timestamp()) - 61}, "exp"),
        ({"iat": int(NOW.timestamp()) + 61}, "iat"),
        ({"nonce": "another-nonce"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"sub": ""}, "sub"),
    ],
)
def test_the_claim_checks(changes: dict[str, Any], check: str) -> None:
    assert refused(provider("google"), claims(**changes)) == check


def test_several_audiences_with_our_azp_and_the_leeway_pass() -> None:
    token = claims(
        aud=["client-1", "another-client"],
        azp="client-1",
        exp=int(NOW.timestamp()) - 59,
        iat=int(NOW.timestamp()) + 59,
    )
    check_claims(token, provider("google"), nonce="the-nonce", now=NOW)


def test_disabled_providers_are_left_out() -> None:
    configured = {
        "on": SocialProviderSettings(issuer="https://idp.example.com", client_id="a"),
        "off": SocialProviderSettings(
            issuer="https://idp.example.com", client_id="b", enabled=False
        ),
    }
    assert list(build_providers(configured)) == ["on"]
