"""The end-session endpoint (OpenID Connect RP-Initiated Logout) and its confirmation page.

With a valid ``id_token_hint`` the session it names ends at once; without one the person
confirms first (domain/oauth/logout.py says why). Either way the browser goes back only
to a post-logout URI the client registered.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.oauth.logout import LogoutRequest
from domain.oauth.outcomes import ErrorPage
from resolvers.http.oauth import html
from resolvers.http.oauth.adapter import actor_from, form_fields, oauth_request, state_of
from resolvers.http.oauth.endpoints import END_SESSION_PATH
from resolvers.http.oauth.pages import COOKIE, error_page, expired_page, page_response, page_text

LOGOUT_PATH = END_SESSION_PATH
CONFIRM_PATH = "/oauth2/logout/confirm"


def _done(http: Request, request: LogoutRequest, *, forget_browser: bool, notice: str) -> Response:
    response: Response
    if request.redirect is not None:
        response = RedirectResponse(request.redirect, status_code=303)
    else:
        page = html.notice_page(page_text(http), notice)
        response = page_response(page, html.page_csp([]))
    if forget_browser:
        response.delete_cookie(COOKIE, path="/oauth2")
    return response


async def end_session(request: Request) -> Response:
    """GET or POST (both are allowed by the specification)."""
    logout = state_of(request).services.oauth_logout
    checked = await logout.check((await oauth_request(request)).params)
    if isinstance(checked, ErrorPage):
        return error_page(request, checked.message)
    browser = request.cookies.get(COOKIE)
    if checked.sid is not None:
        ended = await logout.end_hinted(checked, browser, actor_from(request))
        return _done(request, checked, forget_browser=ended, notice="signed_out_title")
    await logout.save(checked)
    hidden = {"request": checked.id, "csrf": checked.csrf}
    page = html.logout_page(page_text(request), checked.client_name, CONFIRM_PATH, hidden)
    return page_response(page, html.page_csp(checked.allowed_uris))


async def confirm(request: Request) -> Response:
    logout = state_of(request).services.oauth_logout
    try:
        form = dict(await form_fields(request))
    except ValueError:
        form = {}
    pending = await logout.pending(form.get("request", ""))
    if pending is None or not hmac.compare_digest(
        pending.csrf.encode(), form.get("csrf", "").encode()
    ):
        return expired_page(request, "sign_out_expired")
    await logout.drop(pending.id)
    if form.get("decision") != "logout":
        return _done(request, pending, forget_browser=False, notice="still_signed_in_title")
    await logout.end_browser(request.cookies.get(COOKIE), actor_from(request))
    return _done(request, pending, forget_browser=True, notice="signed_out_title")
