"""The memo of verified JWTs: bounded, least recently used first out."""

from __future__ import annotations

from domain.core.verified_tokens import VerifiedTokens


def test_the_least_recently_used_token_goes_first() -> None:
    memo = VerifiedTokens(kept=2)
    memo.remember("a", "k1", {"sub": "a"})
    memo.remember("b", "k1", {"sub": "b"})
    assert memo.get("a") == ("k1", {"sub": "a"})  # "a" used: "b" is now the oldest
    memo.remember("c", "k2", {"sub": "c"})
    assert memo.get("b") is None
    assert memo.get("a") is not None
    assert memo.get("c") == ("k2", {"sub": "c"})


def test_an_unknown_token_is_not_found() -> None:
    assert VerifiedTokens().get("never.seen.token") is None
