"""The committed SDL is the contract client code is generated from: it must match the code."""

from __future__ import annotations

from schema.export import SDL_PATH, current_sdl


def test_committed_schema_matches_code() -> None:
    assert SDL_PATH.read_text() == current_sdl(), "run `make schema` and commit schema.graphql"


def test_schema_has_the_core_operations() -> None:
    sdl = current_sdl()
    for name in ("login(", "refreshToken(", "register(", "me:", "users(", "auditEvents("):
        assert name in sdl, name
