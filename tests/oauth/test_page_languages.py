"""The built-in pages in the person's language: a deployment's catalogue
(``GATEHOUSE_OIDC_PAGE_TRANSLATIONS_DIR``) and the shipped German one, chosen from the
request's ``ui_locales``, then Accept-Language, else English; ``lang`` follows; a bad
catalogue stops the start. And every page, in English and in German, is usable with a
screen reader: a language, a title and a heading, a label for every field, errors
announced (role=alert). The app runs in-process; httpx is the browser."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.core.clock import FrozenClock
from domain.core.settings import Settings
from resolvers.http.oauth.catalogue import CatalogueError
from tests.api.identity_ops import PASSWORD
from tests.oauth.conftest import hidden
from tests.oauth.inprocess import BASE, RP, LocalProvider, local_provider
from tests.oauth.page_tour import accessibility_problems, tour, tour_clients
from tests.support.asgi import AppWith

CLOCK_START = datetime(2026, 7, 14, 9, 0, tzinfo=UTC)
EMAIL = "lang.ada@example.com"
FRENCH = {
    "sign_in": "Se connecter",
    "to": "pour continuer vers {client}",
    "email": "Adresse e-mail",
    "password": "Mot de passe",
    "consent_title": "Autoriser {client} à utiliser votre compte ?",
    "allow": "Autoriser",
    "scope.email": "Votre adresse e-mail",
    "error.INVALID_CREDENTIALS": "Adresse e-mail ou mot de passe incorrect.",
}


def _lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', page)
    assert found is not None, page[:200]
    return found.group(1)


@pytest.fixture(scope="module")
def translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("translations")
    (directory / "fr.json").write_text(json.dumps(FRENCH), encoding="utf-8")
    (directory / "pt-BR.json").write_text(json.dumps({"sign_in": "Entrar"}), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
async def op(
    app_with: AppWith, clock: FrozenClock, translations: Path
) -> AsyncIterator[LocalProvider]:
    async with local_provider(app_with, clock, oidc_page_translations_dir=translations) as op:
        await op.add_client("Wiki", "CONFIDENTIAL", redirectUris=[RP], scopes=["openid", "email"])
        await op.person(EMAIL)
        yield op


async def _sign_in_page(
    op: LocalProvider, browser: httpx.AsyncClient, **params: str
) -> httpx.Response:
    url, _ = op.rp("Wiki").create_authorization_url(
        f"{BASE}/oauth2/authorize", code_verifier=secrets.token_urlsafe(48), **params
    )
    first = await browser.get(url)
    assert first.headers["location"].startswith("/oauth2/login?"), first.headers
    return await browser.get(first.headers["location"])


async def test_ui_locales_chooses_the_catalogue_for_every_page_of_the_request(
    op: LocalProvider,
) -> None:
    """``ui_locales`` wins over Accept-Language; its first tag with a catalogue counts
    (``fr-CA`` finds ``fr``); the consent page of the same request speaks it too, and a
    string the catalogue leaves out is English."""
    async with op.http() as browser:
        browser.headers["Accept-Language"] = "de"
        page = await _sign_in_page(op, browser, ui_locales="ja fr-CA de")
        assert _lang(page.text) == "fr"
        assert "<h1>Se connecter</h1>" in page.text
        assert "pour continuer vers Wiki" in page.text
        assert '<label for="password">Mot de passe</label>' in page.text
        assert ">Continue</button>" in page.text  # not in the French file: English
        form = {"challenge": hidden(page.text, "challenge"), "csrf": hidden(page.text, "csrf")}
        wrong = await browser.post(
            "/oauth2/login", data={**form, "email": EMAIL, "password": "not it at all 1"}
        )
        assert wrong.status_code == 400
        assert (
            '<p role="alert" id="error">Adresse e-mail ou mot de passe incorrect.</p>'
        ) in wrong.text
        signed_in = await browser.post(
            "/oauth2/login", data={**form, "email": EMAIL, "password": PASSWORD}
        )
        resumed = await browser.get(signed_in.headers["location"])
        consent = await browser.get(resumed.headers["location"])
    assert _lang(consent.text) == "fr"
    assert "Autoriser Wiki à utiliser votre compte ?" in consent.text
    assert "<li>Votre adresse e-mail</li><li>Know who you are</li>" in consent.text
    assert ">Autoriser</button>" in consent.text


@pytest.mark.parametrize(
    ("accept_language", "lang", "heading"),
    [
        ("ja, fr;q=0.8, de-AT;q=0.9", "de", "Anmelden"),  # the shipped German, by q
        ("fr-CH, en;q=0.5", "fr", "Se connecter"),
        ("pt-br", "pt-BR", "Entrar"),  # tags compare without case; lang as the file names it
        ("pt-PT, pt;q=0.9", "en", "Sign in"),  # pt-BR is not a fallback for pt
        ("ja, zh;q=0.5, *", "en", "Sign in"),  # nothing there: English
        ("de;q=0, fr;q=0", "en", "Sign in"),  # q=0 means "not this"
        ("", "en", "Sign in"),
    ],
)
async def test_accept_language_when_the_request_names_no_ui_locales(
    op: LocalProvider, accept_language: str, lang: str, heading: str
) -> None:
    async with op.http() as browser:
        browser.headers["Accept-Language"] = accept_language
        page = await _sign_in_page(op, browser)
        device = await browser.get("/oauth2/device")  # no authorization request behind it
    assert (_lang(page.text), _lang(device.text)) == (lang, lang)
    assert f"<h1>{heading}</h1>" in page.text


async def test_ui_locales_with_nothing_to_offer_falls_back(op: LocalProvider) -> None:
    async with op.http() as browser:
        browser.headers["Accept-Language"] = "de"
        german = await _sign_in_page(op, browser, ui_locales="ja ko")
        browser.headers["Accept-Language"] = "ja"
        english = await _sign_in_page(op, browser, ui_locales="ja ko")
        error = await browser.get("/oauth2/authorize", params={"client_id": "nope"})
        config = (await browser.get("/.well-known/openid-configuration")).json()
    assert _lang(german.text) == "de"
    assert _lang(english.text) == "en"
    assert _lang(error.text) == "en"
    assert config["ui_locales_supported"] == ["de", "en", "fr", "pt-BR"]


@pytest.mark.parametrize(
    ("files", "complaint"),
    [
        ({"fr.json": {"sign_in": "Se connecter", "sign_inn": "x"}}, "'sign_inn' is not a key"),
        ({"fr.json": {"consent_title": "Autoriser ?"}}, "missing ['client']"),
        ({"fr.json": {"allow": "Autoriser {client}"}}, "unknown ['client']"),
        ({"fr.json": {"to": "vers {client.__class__}"}}, "not a plain {name}"),
        ({"fr.json": {"to": "vers {client"}}, "unbalanced braces"),
        ({"fr.json": {"error.INVALID_CREDENTIALS": "{email} ?"}}, "unknown ['email']"),
        ({"fr.json": {"allow": 1}}, "must be a non-empty string"),
        ({"fr.json": ["Se connecter"]}, "a JSON object"),
        ({"fr.json": "{not json"}, "not JSON"),
        ({"french.json": {"allow": "Autoriser"}}, "name it after a language tag"),
    ],
)
def test_a_bad_catalogue_stops_the_start(
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    files: dict[str, Any],
    complaint: str,
) -> None:
    from app import create_app

    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as refused:
        create_app(make_settings(oidc_page_translations_dir=tmp_path))
    assert complaint in str(refused.value)
    with pytest.raises(CatalogueError, match="not a directory"):
        create_app(make_settings(oidc_page_translations_dir=tmp_path / "missing"))


@pytest.fixture(scope="module")
async def tour_totp(op: LocalProvider) -> str:
    return await tour_clients(op)


@pytest.mark.parametrize(("accept_language", "lang"), [("en", "en"), ("de-DE", "de")])
async def test_every_page_has_labels_and_announces_its_errors(
    op: LocalProvider, tour_totp: str, accept_language: str, lang: str
) -> None:
    op.clock.advance(timedelta(seconds=30))  # a fresh TOTP step for this tour's code
    visits = await tour(op, tour_totp, {"Accept-Language": accept_language})
    html = [v for v in visits if v.response.headers.get("content-type", "").startswith("text/html")]
    assert len(html) >= 12
    assert sum(v.error for v in html) == 5
    for visit in html:
        assert accessibility_problems(visit) == [], visit.what
        assert _lang(visit.response.text) == lang, visit.what
