"""Self-hosted GraphiQL explorer: page template, vendored static files and the CSP it needs.

Everything GraphiQL needs is served from our own origin (no CDN): React, ReactDOM, GraphiQL,
the explorer plugin and the bootstrap `init.js` live in `STATIC_DIR`, which the app mounts at
`/graphiql/static` (see `render_graphiql_page`'s `static_base`). The page has no inline script,
so it runs under `GRAPHIQL_CSP`. `static/VERSIONS.txt` lists the vendored versions and how to
refresh them.
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

# The Content-Security-Policy header value for the GraphiQL page. Only two sources beyond
# 'self' are allowed, each because GraphiQL 3 breaks without it:
#   style-src 'unsafe-inline': GraphiQL's dialogs (settings, shortcuts) use Radix, whose
#     scroll lock (react-remove-scroll / react-style-singleton) injects <style> elements with
#     computed content at run time. Without it, opening a dialog is a CSP violation; a hash
#     cannot match the computed CSS and the page is a static template, so no nonce.
#     Scripts stay strict: no 'unsafe-inline', no 'unsafe-eval'.
#   img-src / font-src data:: graphiql.min.css embeds its Roboto / Fira Code fonts and a few
#     images as data: URLs; the page's favicon is `data:,` (avoids a /favicon.ico 404).
# GraphiQL 3 edits with CodeMirror 5, which runs on the main thread (no Monaco, no workers), so
# workers are denied outright. No frames, plugins or forms are used, and the page must not be
# framed (clickjacking).
GRAPHIQL_CSP: str = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'none'",
        "object-src 'none'",
        "frame-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
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
