"""The built-in pages' languages: English (strings.py), the translations shipped in
``locales/``, and a deployment's own (``GATEHOUSE_OIDC_PAGE_TRANSLATIONS_DIR``: one
``<language tag>.json`` per language, an object of key → string).

Every translation is checked when the application is built, so a bad one stops the
start instead of showing a broken page: a key English does not have, a string that is
not one, or ``{placeholders}`` other than English's for that key are refused. A key a
translation leaves out is shown in English (a newer Gatehouse may add keys before the
deployment's files catch up); each start logs which.

A page's language is the first of the authorization request's ``ui_locales`` (OpenID
Connect Core §3.1.2.1) that has a catalogue, else the browser's Accept-Language, else
English; tags are matched by RFC 4647 lookup (``de-AT`` falls back to ``de``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from loguru import logger

from resolvers.http.oauth.strings import ENGLISH, ERROR_CODES

BUILT_IN_DIR = Path(__file__).parent / "locales"
# BCP 47 as far as lookup needs it: a 2-3 letter language, then subtags.
_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_MAX_FILE_BYTES = 256 * 1024
_MAX_ACCEPTED = 12  # language ranges read from one header (the rest are ignored)
KNOWN_KEYS = frozenset(ENGLISH) | {f"error.{code}" for code in ERROR_CODES}


class CatalogueError(ValueError):
    """A translation the pages cannot use; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Catalogue:
    lang: str  # the page's ``lang`` attribute
    strings: Mapping[str, str]  # every English key, translated where the language has it

    def text(self, key: str, **values: str) -> str:
        # Only the template is parsed: the values (a client's name, an email) go in as
        # they are, so braces in them are never read as placeholders.
        return self.strings[key].format_map(values) if values else self.strings[key]

    def scope(self, scope: str) -> str:
        return self.strings.get(f"scope.{scope}", scope)

    def error(self, code: str, message: str) -> str:
        """A domain error's words: the translation's ``error.<code>``, else its message."""
        return self.strings.get(f"error.{code}", message)


def _placeholders(template: str) -> set[str]:
    """The names a template substitutes. Raises CatalogueError for anything but plain
    ``{name}`` (positional, attribute or index fields, conversions, format specs)."""
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise CatalogueError(f"unbalanced braces ({error})") from error
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise CatalogueError(f"{{{field}}} is not a plain {{name}} placeholder")
        names.add(field)
    return names


def _checked(tag: str, entries: Any, source: str) -> dict[str, str]:
    if not isinstance(entries, dict):
        raise CatalogueError(f"{source}: a JSON object of key → string is expected")
    checked: dict[str, str] = {}
    for key, value in entries.items():
        where = f"{source}: {key!r}"
        if key not in KNOWN_KEYS:
            raise CatalogueError(f"{where} is not a key of the pages (see strings.py)")
        if not isinstance(value, str) or not value.strip():
            raise CatalogueError(f"{where} must be a non-empty string")
        try:
            found = _placeholders(value)
        except CatalogueError as error:
            raise CatalogueError(f"{where}: {error}") from error
        wanted = _placeholders(ENGLISH.get(key, ""))
        if found != wanted:
            missing, extra = sorted(wanted - found), sorted(found - wanted)
            raise CatalogueError(
                f"{where} must use the placeholders {sorted(wanted)} "
                f"(missing {missing}, unknown {extra})"
            )
        checked[key] = value
    return checked


def _read_dir(directory: Path) -> dict[str, dict[str, str]]:
    """``<tag>.json`` → its checked entries, by tag as the file names it. Raises
    CatalogueError."""
    if not directory.is_dir():
        raise CatalogueError(f"{directory}: not a directory")
    found: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("*.json")):
        tag = path.stem
        if not _TAG.fullmatch(tag):
            raise CatalogueError(f"{path}: name it after a language tag (de.json, pt-BR.json)")
        if tag.lower() in {t.lower() for t in found}:
            raise CatalogueError(f"{path}: a second file for the language {tag}")
        data = path.read_bytes()
        if len(data) > _MAX_FILE_BYTES:
            raise CatalogueError(f"{path}: larger than {_MAX_FILE_BYTES} bytes")
        try:
            entries = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise CatalogueError(f"{path}: not JSON ({error})") from error
        found[tag] = _checked(tag, entries, str(path))
    return found


class Catalogues:
    """The languages the pages speak, and the choice of one for a request."""

    def __init__(self, translations: Mapping[str, Mapping[str, str]]) -> None:
        self._by_tag: dict[str, Catalogue] = {"en": Catalogue("en", ENGLISH)}
        for tag, entries in translations.items():
            self._by_tag[tag.lower()] = Catalogue(tag, {**ENGLISH, **entries})

    @property
    def languages(self) -> list[str]:
        """Every tag there is a catalogue for (discovery's ``ui_locales_supported``)."""
        return sorted(c.lang for c in self._by_tag.values())

    def choose(self, ui_locales: str | None, accept_language: str | None) -> Catalogue:
        for tag in (*_ui_locales(ui_locales), *_accepted(accept_language)):
            found = self._lookup(tag)
            if found is not None:
                return found
        return self._by_tag["en"]

    def _lookup(self, tag: str) -> Catalogue | None:
        """RFC 4647 §3.4: the tag, then the tag with its last subtag removed, ..."""
        parts = tag.lower().split("-")
        while parts:
            found = self._by_tag.get("-".join(parts))
            if found is not None:
                return found
            parts.pop()
        return None


def _ui_locales(value: str | None) -> list[str]:
    return [t for t in (value or "").split()[:_MAX_ACCEPTED] if _TAG.fullmatch(t)]


def _accepted(header: str | None) -> list[str]:
    """Accept-Language's ranges, most wanted first (ties in the order given); ``*`` and
    ``q=0`` say nothing about a language to pick, so they are left out."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((header or "").split(",")[:_MAX_ACCEPTED]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, number = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(number)
                except ValueError:
                    quality = 0.0
        if quality > 0 and _TAG.fullmatch(tag.strip()):
            ranked.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def load_catalogues(directory: Path | None) -> Catalogues:
    """The built-in translations, then the deployment's (its entries win key by key).
    Raises CatalogueError."""
    translations = _read_dir(BUILT_IN_DIR)
    if directory is not None:
        built_in = {tag.lower(): tag for tag in translations}
        for tag, entries in _read_dir(directory).items():
            # The deployment's file for a shipped language amends it (and names the tag).
            previous = translations.pop(built_in.get(tag.lower(), tag), {})
            translations[tag] = {**previous, **entries}
    for tag, entries in translations.items():
        _log_missing(tag, (k for k in ENGLISH if k not in entries))
    return Catalogues(translations)


def _log_missing(tag: str, missing: Iterable[str]) -> None:
    keys = sorted(missing)
    if keys:
        logger.bind(language=tag, keys=keys).warning(
            "the {} pages show {} strings in English (no translation)", tag, len(keys)
        )
