"""The authorization endpoint's side of headless mode (domain/oauth/headless.py): the
pending request handed to the deployment's login UI, and the browser's return trip with
the one-time ``login_verifier`` that an accepted login answered, which becomes the
provider's browser-session cookie here."""

from __future__ import annotations

import hmac
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.oauth.headless import LOGIN_VERIFIER
from domain.oauth.outcomes import AuthorizeOutcome, NeedConsent, NeedSignIn
from domain.oauth.server import HttpRequest
from resolvers.http.oauth.adapter import state_of


class ExpiredReturnError(Exception):
    """A verifier unknown, used, or for another challenge."""


async def returning_browser(request: Request, given: HttpRequest) -> tuple[HttpRequest, str] | None:
    """(the request to continue, the browser session) when this is the return trip from
    an accepted login, else None. Raises ExpiredReturnError for a verifier that does not hold."""
    names = sorted(name for name, _ in given.params)
    if names != ["challenge", LOGIN_VERIFIER]:
        return None
    params = dict(given.params)
    taken = await state_of(request).services.oauth.store.take_login_verifier(params[LOGIN_VERIFIER])
    if taken is None or not hmac.compare_digest(taken[0].encode(), params["challenge"].encode()):
        raise ExpiredReturnError
    only_challenge = HttpRequest(
        given.method, given.url, given.headers, [("challenge", params["challenge"])]
    )
    return only_challenge, taken[1]


def to_login_ui(request: Request, outcome: AuthorizeOutcome) -> Response | None:
    """The redirect to the deployment's login UI for a sign-in or consent step, when
    headless mode is on (GATEHOUSE_OIDC_LOGIN_UI_URL)."""
    ui = state_of(request).settings.oidc_login_ui_url
    if not ui or not isinstance(outcome, NeedSignIn | NeedConsent):
        return None
    name = "login_challenge" if isinstance(outcome, NeedSignIn) else "consent_challenge"
    joiner = "&" if urlsplit(ui).query else "?"
    return RedirectResponse(
        f"{ui}{joiner}{urlencode({name: outcome.challenge.id})}", status_code=302
    )
