"""The committed SDL is the contract client code is generated from: it must match the code."""

from __future__ import annotations

from schema.export import SDL_PATH, breaking_changes, current_sdl, unacknowledged_breaking_changes


def test_committed_schema_matches_code() -> None:
    assert SDL_PATH.read_text() == current_sdl(), "run `make schema` and commit schema.graphql"


def test_schema_has_the_core_operations() -> None:
    sdl = current_sdl()
    for name in ("login(", "refreshToken(", "register(", "me:", "users(", "auditEvents("):
        assert name in sdl, name


def test_no_unacknowledged_breaking_change_against_the_baseline() -> None:
    assert unacknowledged_breaking_changes() == [], (
        "breaking change: deprecate instead, or acknowledge it in "
        "schema.breaking-acknowledged.txt (see README, Versioning)"
    )


def test_the_finder_catches_a_removed_field() -> None:
    old = "type Query { me: String, gone: String }"
    new = "type Query { me: String }"
    assert breaking_changes(old, new) == ["FIELD_REMOVED: Field Query.gone was removed."]
    assert breaking_changes(new, old) == []  # adding is fine
