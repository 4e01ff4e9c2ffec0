"""The built-in sign-in page's social buttons (domain/oauth/page_social.py).

A button posts the pending request's challenge and CSRF token to
``/oauth2/social/<provider>``; the answer is a redirect to the provider, and a cookie
(only under /oauth2/social) holding the key the callback must show. The provider comes
back to ``/oauth2/social/<provider>/callback`` (a GET, or a POST for a provider using
``response_mode=form_post``), which finishes the social sign-in through the same use
case as ``completeSocialSignIn`` and then goes on as the password form does: the TOTP
step when the account has one, else the browser session and the authorization request.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.core.errors import DomainError
from domain.social.sign_in import LinkRequired
from resolvers.http.oauth.adapter import actor_from, state_of
from resolvers.http.oauth.pages import (
    code_step,
    expired_page,
    limit_sign_in,
    login_page_response,
    page_text,
    pending_request,
    posted_request,
    read_form,
    signed_in,
)

SOCIAL_COOKIE = "gh_op_social"
COOKIE_PATH = "/oauth2/social"


async def begin(request: Request) -> Response:
    posted = await posted_request(request)
    if posted is None:
        return expired_page(request)
    _, challenge, name, uris = posted
    services = state_of(request).services
    try:
        await limit_sign_in(request)
        url, browser = await services.oauth_social_page.begin(
            challenge, request.path_params["provider"]
        )
    except DomainError as error:
        return await login_page_response(request, challenge, name, uris, error, status=400)
    response = RedirectResponse(url, status_code=303)
    settings = state_of(request).settings
    secure = settings.public_url.startswith("https://")
    response.set_cookie(
        SOCIAL_COOKIE,
        browser,
        max_age=settings.social_state_ttl_seconds,
        path=COOKIE_PATH,
        httponly=True,
        secure=secure,
        # A form_post provider (Apple) comes back with a cross-site POST, which a Lax
        # cookie would not ride; None needs Secure, so plain-http development keeps Lax.
        samesite="none" if secure else "lax",
    )
    return response


async def callback(request: Request) -> Response:
    fields = await read_form(request) if request.method == "POST" else {}
    query = request.query_params
    state = fields.get("state", query.get("state"))
    page_social = state_of(request).services.oauth_social_page
    try:
        await limit_sign_in(request)
        challenge = await page_social.claim(state=state, browser=request.cookies.get(SOCIAL_COOKIE))
    except DomainError:  # InvalidChallengeError, RateLimitedError
        return _forget(expired_page(request))
    found = await pending_request(request, challenge.id)
    if found is None:
        return _forget(expired_page(request))
    _, name, uris = found
    try:
        outcome = await page_social.complete(
            provider=request.path_params["provider"],
            code=fields.get("code", query.get("code")),
            state=str(state),
            error=fields.get("error", query.get("error")),
            actor=actor_from(request),
        )
    except DomainError as error:
        page = await login_page_response(request, challenge, name, uris, error, status=400)
        return _forget(page)
    if isinstance(outcome, LinkRequired):
        message = page_text(request, challenge).text(
            "social_link_required", provider=page_social.label(outcome.provider)
        )
        return _forget(await login_page_response(request, challenge, name, uris, message))
    if outcome.challenge is not None:  # the account's second factor: the page's code step
        hidden = {"challenge": challenge.id, "csrf": challenge.csrf, "mfa": outcome.challenge.token}
        return _forget(code_step(request, challenge, name, uris, hidden))
    return _forget(await signed_in(request, challenge, outcome, mfa=False))


def _forget(response: Response) -> Response:
    """The begin's cookie has served its one callback."""
    response.delete_cookie(SOCIAL_COOKIE, path=COOKIE_PATH)
    return response
