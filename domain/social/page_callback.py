"""The callback of the built-in sign-in page's social buttons: Gatehouse's own route,
one per provider, under the public URL. It is always an allowed redirect URI (the
operator lists only their own apps' callbacks in GATEHOUSE_SOCIAL_REDIRECT_URIS)."""

from __future__ import annotations

from collections.abc import Iterable

CALLBACK_PATH = "/oauth2/social/{provider}/callback"


def page_callback_uri(public_url: str, provider: str) -> str:
    return public_url.rstrip("/") + CALLBACK_PATH.format(provider=provider)


def page_callback_uris(public_url: str, providers: Iterable[str]) -> frozenset[str]:
    return frozenset(page_callback_uri(public_url, name) for name in providers)
