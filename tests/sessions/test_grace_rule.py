"""The grace rule as pure logic: a presentation that raced its rotation is inside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.sessions.rotation import Rotation, grace_allows

ROTATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def allows(offset_seconds: float, *, context: str = "firefox|203.0.113.0/24") -> bool:
    return grace_allows(
        grace_seconds=10,
        rotation=Rotation(ROTATED, "firefox|203.0.113.0/24"),
        context=context,
        now=ROTATED + timedelta(seconds=offset_seconds),
        successor_used=False,
        retry=1,
    )


def test_a_presentation_that_read_the_clock_before_the_winner_is_a_retry() -> None:
    # Concurrent presentations: this one sampled its time a moment before the request
    # that won the rotation claim (the bench's 4-way refresh lost sessions to this).
    assert allows(-0.002)


def test_the_window_bounds_both_sides() -> None:
    assert allows(9.9)
    assert not allows(10.1)
    assert not allows(-10.1)


def test_another_context_is_reuse_even_inside_the_window() -> None:
    assert not allows(1, context="chrome|203.0.113.0/24")
