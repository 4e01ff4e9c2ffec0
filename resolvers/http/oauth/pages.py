"""The built-in sign-in and consent pages of the authorization endpoint.

Sign-in goes through the same domain services as the GraphQL ``login`` and
``completeMfaLogin`` (limits, lockout, audit); success opens the provider's browser
session (an HttpOnly, SameSite=Lax cookie) and returns to the authorization endpoint.
Every form carries the pending request's CSRF token; consent also needs the cookie,
which a cross-site POST does not carry.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from domain.core.errors import DomainError
from domain.identity.login import LoginOutcome
from domain.oauth.page_sessions import session_subject
from domain.oauth.store import Challenge
from domain.ratelimit.policy import Operation
from domain.tokens.methods import PASSWORD
from resolvers.http.oauth import html
from resolvers.http.oauth.adapter import actor_from, form_fields, state_of
from resolvers.http.oauth.catalogue import Catalogue

COOKIE = "gh_op_session"
LOGIN_PATH = "/oauth2/login"
MFA_PATH = "/oauth2/login/mfa"
CONSENT_PATH = "/oauth2/consent"
AUTHORIZE_PATH = "/oauth2/authorize"
SOCIAL_PATH = "/oauth2/social/{provider}"
PASSKEY_BEGIN_PATH = "/oauth2/login/passkey/begin"
PASSKEY_PATH = "/oauth2/login/passkey"
PASSKEY_SCRIPT_PATH = "/oauth2/static/passkey.js"
EXPIRED = "expired"  # the catalogue's key for a request that is gone or was forged


def page_text(request: Request, challenge: Challenge | None = None) -> Catalogue:
    """The page's language: the authorization request's ``ui_locales`` (held with its
    challenge, else this request's own query), then the browser's Accept-Language."""
    wanted = (
        dict(challenge.params).get("ui_locales")
        if challenge is not None
        else request.query_params.get("ui_locales")
    )
    return state_of(request).page_text.choose(wanted, request.headers.get("accept-language"))


def said(t: Catalogue, error: DomainError) -> str:
    """A domain error on a page, in the page's language where the catalogue words it."""
    return t.error(error.code, error.message)


def page_response(body: str, csp: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        body,
        status_code=status,
        headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"},
    )


def error_page(
    request: Request, message: str, status: int = 400, challenge: Challenge | None = None
) -> Response:
    """``message``: already in words (a domain's or authlib's explanation)."""
    return page_response(
        html.error_page(page_text(request, challenge), message), html.page_csp([]), status
    )


def expired_page(request: Request, key: str = EXPIRED) -> Response:
    """The error page saying the catalogue's ``key`` (the request is gone or forged)."""
    return error_page(request, page_text(request).text(key))


async def read_form(request: Request) -> dict[str, str]:
    try:
        return dict(await form_fields(request))
    except ValueError:  # more fields than any of these forms has
        return {}


async def pending_request(
    request: Request, challenge_id: str
) -> tuple[Challenge, str, list[str]] | None:
    services = state_of(request).services
    challenge = await services.oauth.store.challenge(challenge_id)
    if challenge is None:
        return None
    client = await services.oauth_clients.active(challenge.client_id)
    if client is None:
        return None
    return challenge, client.name, client.redirect_uris


async def limit_sign_in(request: Request, account: str | None = None) -> None:
    """The sign-in rate limit every way in on the pages counts against (per address, and
    per account where one is named). Raises: RateLimitedError."""
    await state_of(request).services.rate_limits.check(
        Operation.LOGIN,
        ip=actor_from(request).ip,
        account=account,
        api_key_id=None,
        api_key_limit=None,
    )


def csrf_ok(challenge: Challenge, form: dict[str, str]) -> bool:
    return hmac.compare_digest(challenge.csrf.encode(), form.get("csrf", "").encode())


async def posted_request(
    request: Request,
) -> tuple[dict[str, str], Challenge, str, list[str]] | None:
    """A sign-in page's POST: its form and the pending request it answers (challenge,
    client name, redirect URIs); None when the challenge is gone or the CSRF token is
    wrong (the caller answers EXPIRED)."""
    form = await read_form(request)
    found = await pending_request(request, form.get("challenge", ""))
    if found is None or not csrf_ok(found[0], form):
        return None
    return (form, *found)


def continue_to(challenge: Challenge) -> str:
    return challenge.resume or f"{AUTHORIZE_PATH}?{urlencode({'challenge': challenge.id})}"


async def login(request: Request) -> Response:
    if request.method == "GET":
        found = await pending_request(request, request.query_params.get("challenge", ""))
        if found is None:
            return expired_page(request)
        challenge, name, uris = found
        hint = challenge.login_hint() or ""  # escaped by the page like any value
        return await login_page_response(request, challenge, name, uris, None, email=hint)
    posted = await posted_request(request)
    if posted is None:
        return expired_page(request)
    form, challenge, name, uris = posted
    services = state_of(request).services
    hidden = {"challenge": challenge.id, "csrf": challenge.csrf}
    email = form.get("email", "")
    actor = actor_from(request)
    try:
        await limit_sign_in(request, email.strip().lower()[:320])
        outcome = await services.login.login(
            email=email, password=form.get("password", ""), actor=actor
        )
    except DomainError as error:
        return await login_page_response(
            request, challenge, name, uris, error, email=email, status=400
        )
    if outcome.challenge is not None:
        hidden["mfa"] = outcome.challenge.token
        return code_step(request, challenge, name, uris, hidden)
    return await signed_in(request, challenge, outcome, mfa=False)


async def login_page_response(
    request: Request,
    challenge: Challenge,
    name: str,
    uris: list[str],
    error: DomainError | str | None,
    *,
    email: str = "",
    status: int = 200,
) -> Response:
    """The sign-in page: email and password, a button per social provider (their
    authorization endpoints' origins join the CSP's ``form-action``: the button's post
    is redirected there), and the passkey button where passkeys work on this origin
    (the only page whose CSP allows a script: Gatehouse's own). ``error``: what went
    wrong, a domain error or words already in the page's language."""
    services = state_of(request).services
    t = page_text(request, challenge)
    social = services.oauth_social_page
    hidden = {"challenge": challenge.id, "csrf": challenge.csrf}
    buttons = [(SOCIAL_PATH.format(provider=b.provider), b.label) for b in social.buttons()]
    origins = await social.form_origins() if buttons else []
    passkey = (
        html.PasskeyButton(PASSKEY_BEGIN_PATH, PASSKEY_PATH, PASSKEY_SCRIPT_PATH)
        if services.oauth_passkey_page.available
        else None
    )
    shown = said(t, error) if isinstance(error, DomainError) else error
    page = html.login_page(
        t, name, LOGIN_PATH, hidden, shown, email=email, social=buttons, passkey=passkey
    )
    csp = html.page_csp([*uris, *origins], script=passkey is not None)
    return page_response(page, csp, status)


def code_step(
    request: Request,
    challenge: Challenge,
    name: str,
    uris: list[str],
    hidden: dict[str, str],
    error: DomainError | None = None,
) -> Response:
    """The second-factor step of the sign-in page (``hidden`` carries its ``mfa`` token)."""
    t = page_text(request, challenge)
    page = html.mfa_page(t, name, MFA_PATH, hidden, said(t, error) if error else None)
    return page_response(page, html.page_csp(uris), 400 if error else 200)


async def login_mfa(request: Request) -> Response:
    posted = await posted_request(request)
    if posted is None:
        return expired_page(request)
    form, challenge, name, uris = posted
    services = state_of(request).services
    actor = actor_from(request)
    mfa_token = form.get("mfa", "")
    try:
        owner = await services.login.challenge_owner(mfa_token)
        await services.rate_limits.check(
            Operation.MFA,
            ip=actor.ip,
            account=owner or mfa_token[:64],
            api_key_id=None,
            api_key_limit=None,
        )
        outcome = await services.login.complete_mfa_login(
            challenge=mfa_token, code=form.get("code", ""), backup_code=None, actor=actor
        )
    except DomainError as error:
        hidden = {"challenge": challenge.id, "csrf": challenge.csrf, "mfa": mfa_token}
        return code_step(request, challenge, name, uris, hidden, error)
    return await signed_in(request, challenge, outcome, mfa=True)


async def signed_in(
    request: Request, challenge: Challenge, outcome: LoginOutcome, *, mfa: bool
) -> Response:
    """The browser session for the session the sign-in opened, and on to the request.
    A first step other than a password (a provider, a passkey) carries the session's
    own ``amr``; a password's keeps the page's ``pwd`` (and ``otp``)."""
    assert outcome.tokens is not None
    provider = state_of(request).services.oauth
    subject = await session_subject(outcome.tokens.user_id, outcome.tokens.session_id)
    if subject is None:
        return expired_page(request)
    if PASSWORD in subject.amr:
        browser = await provider.signed_in(
            challenge, outcome.user, outcome.tokens.session_id, mfa=mfa
        )
    else:
        browser = await provider.signed_in_as(challenge, subject)
    response = RedirectResponse(continue_to(challenge), status_code=303)
    set_browser_cookie(request, response, browser)
    return response


def set_browser_cookie(request: Request, response: Response, browser: str) -> None:
    """The provider's browser session (the built-in pages, or the return trip from a
    headless login UI): HttpOnly, SameSite=Lax, only under /oauth2."""
    settings = state_of(request).settings
    response.set_cookie(
        COOKIE,
        browser,
        max_age=settings.refresh_token_absolute_seconds,
        path="/oauth2",
        httponly=True,
        secure=settings.public_url.startswith("https://"),
        samesite="lax",
    )


async def consent(request: Request) -> Response:
    services = state_of(request).services
    form = await read_form(request) if request.method == "POST" else {}
    found = await pending_request(
        request, form.get("challenge") or request.query_params.get("challenge", "")
    )
    subject = await services.oauth.browser_subject(request.cookies.get(COOKIE))
    if found is None or subject is None:
        return expired_page(request)
    challenge, name, uris = found
    scopes = sorted({s for k, v in challenge.params if k == "scope" for s in v.split()})
    t = page_text(request, challenge)
    if request.method == "GET":
        hidden = {"challenge": challenge.id, "csrf": challenge.csrf}
        return page_response(
            html.consent_page(t, name, scopes, CONSENT_PATH, hidden), html.page_csp(uris)
        )
    if not csrf_ok(challenge, form):
        return expired_page(request)
    if form.get("decision") == "allow":
        await services.oauth.consent(challenge, subject, scopes)
        return RedirectResponse(continue_to(challenge), status_code=303)
    location = await services.oauth.deny(challenge, str(request.url), subject)
    if location:
        return RedirectResponse(location, status_code=303)
    return error_page(request, t.text("access_denied"), challenge=challenge)
