"""Self-hosted GraphiQL explorer: page template, vendored static files and the CSP it needs.

Everything GraphiQL needs is served from our own origin (no CDN): React, ReactDOM, GraphiQL,
the explorer plugin and the bootstrap `init.js` live in `STATIC_DIR`, which the app mounts at
`/graphiql/static` (see `render_graphiql_page`'s `static_base`). The page has no inline script,
so it runs under `GRAPHIQL_CSP`. `static/VERSIONS.txt` lists the vendored versions and how to
refresh them.

The page is the admin console (README, "Administering Gatehouse"): `session.js` keeps the
signed-in session of the tab in memory, `fetcher.js` sends its requests and is GraphiQL's
fetcher (asking the session for a fresh token), `console-panel.js` is the sign-in panel (a
GraphiQL plugin), and `admin-console.json` holds the ready-made tabs and the panel's own
operations (validated against the schema by tests/api/test_graphiql_console.py).
They need nothing beyond `GRAPHIQL_CSP`: scripts and the JSON come from 'self', the panel's
requests go to the same origin, and it styles itself from page.css (no inline style).
"""

from __future__ import annotations

import functools
import html
import pathlib
import re

__all__ = ["GRAPHIQL_CSP", "STATIC_DIR", "render_graphiql_page"]

_HERE = pathlib.Path(__file__).resolve().parent

STATIC_DIR: pathlib.Path = _HERE / "static"
"""The folder to serve (e.g. with Starlette's StaticFiles) at the page's `static_base`."""

_TEMPLATE_PATH = _HERE / "index.html"
_PLACEHOLDER = re.compile(r"\{\{(ENDPOINT|STATIC)\}\}")

# Hash of the one inline <style> GraphiQL 3 injects (see GRAPHIQL_CSP). Recompute it after
# refreshing the vendored files: the browser check reports it in the CSP violation message.
_SCROLL_LOCK_STYLE_HASH = "sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc="

# The Content-Security-Policy header value for the GraphiQL page: everything from 'self', no
# inline script, no eval, no workers, no frames, no plugins, no data: images. Two exceptions,
# each because GraphiQL 3 produces a violation without it:
#   style-src <hash>: GraphiQL's Radix dialogs and menus (settings, keyboard shortcuts) lock
#     page scrolling with react-remove-scroll-bar, which injects a <style> element at run time.
#     Its text depends only on the scrollbar gap and the body's margins, which page.css pins
#     to 0 (no page scrollbar, no body margin), so it is always the same text and a hash
#     allows exactly it. This is stricter than the usual 'unsafe-inline'. Should a browser ever
#     compute a different gap, only the scroll lock's style is refused (a console CSP error,
#     nothing visible: the page does not scroll). Inline styles that React and CodeMirror set
#     through element.style (CSSOM) are not governed by CSP and need nothing.
#   font-src data:: graphiql.min.css embeds its Roboto and Fira Code fonts as data: URLs.
# Not needed, so not allowed: img-src data: (the data: images in graphiql.min.css belong to
# CodeMirror's lint gutter, which GraphiQL does not use; the favicon is static/favicon.svg),
# worker-src (GraphiQL 3 edits with CodeMirror 5 on the main thread; no Monaco), form-action
# (the explorer plugin's only <form> calls preventDefault).
GRAPHIQL_CSP: str = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' '{_SCROLL_LOCK_STYLE_HASH}'",
        "img-src 'self'",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'none'",
        "object-src 'none'",
        "frame-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)


@functools.cache
def _template() -> str:
    """The page template, read from disk once per process."""
    return _TEMPLATE_PATH.read_text(encoding="utf-8")


def render_graphiql_page(endpoint: str, static_base: str = "/graphiql/static") -> str:
    """The GraphiQL HTML page for the GraphQL API at `endpoint`.

    `endpoint` goes into the `data-endpoint` attribute read by `init.js` and is HTML-escaped.
    `static_base` is the URL path where `STATIC_DIR` is mounted (a trailing slash is ignored).
    Both placeholders are substituted in a single pass, so a value containing `{{...}}` is
    never expanded again.
    """
    values = {
        "ENDPOINT": html.escape(endpoint, quote=True),
        "STATIC": html.escape(static_base.rstrip("/"), quote=True),
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], _template())
