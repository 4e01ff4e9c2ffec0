"""The device flow's pages (RFC 8628 §3.3): the person opens the verification URI on a
phone or a computer, types the user code, signs in on the built-in page when needed,
and approves or denies on a page that shows the code again; the device_authorization
endpoint itself is in endpoints.py.

The code entry form carries no CSRF token (it changes nothing: at worst a cross-site
form shows a person an approval page); it is rate limited per IP like link tokens, as
§5.1 asks. The approval form has the pending request's CSRF token and needs the
sign-in page's SameSite=Lax cookie.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.core.errors import DomainError
from domain.oauth.device import VERIFICATION_PATH, display_user_code, normalize_user_code
from domain.oauth.store import Challenge
from domain.ratelimit.policy import Operation
from resolvers.http.oauth import html
from resolvers.http.oauth.adapter import actor_from, form_fields, state_of
from resolvers.http.oauth.pages import (
    COOKIE,
    LOGIN_PATH,
    expired_page,
    page_response,
    page_text,
    said,
)

ENTER_PATH = VERIFICATION_PATH
APPROVE_PATH = "/oauth2/device/approve"
_EXPIRED = "device_expired"  # the catalogue's key


async def _form(request: Request) -> dict[str, str]:
    try:
        return dict(await form_fields(request))
    except ValueError:
        return {}


async def enter_code(request: Request) -> Response:
    """GET shows the form (``verification_uri_complete`` fills it in); POST looks the
    code up and goes on to sign-in or approval."""
    csp = html.page_csp([])
    t = page_text(request)
    if request.method == "GET":
        typed = request.query_params.get("user_code", "")[:32]
        return page_response(html.device_code_page(t, VERIFICATION_PATH, typed, None), csp)
    services = state_of(request).services
    typed = (await _form(request)).get("user_code", "")[:32]
    try:
        await services.rate_limits.check(Operation.TOKEN, ip=actor_from(request).ip)
    except DomainError as error:
        return page_response(
            html.device_code_page(t, VERIFICATION_PATH, typed, said(t, error)), csp, 429
        )
    found = await services.oauth_devices.pending(typed)
    if found is None:
        page = html.device_code_page(t, VERIFICATION_PATH, typed, t.text(_EXPIRED))
        return page_response(page, csp, 400)
    _, client = found
    challenge = Challenge(
        secrets.token_urlsafe(24), [("user_code", normalize_user_code(typed))], client.id
    )
    challenge.resume = f"{APPROVE_PATH}?{urlencode({'challenge': challenge.id})}"
    await services.oauth.store.save_challenge(challenge)
    subject = await services.oauth.browser_subject(request.cookies.get(COOKIE))
    if subject is None:
        return RedirectResponse(
            f"{LOGIN_PATH}?{urlencode({'challenge': challenge.id})}", status_code=303
        )
    return RedirectResponse(challenge.resume, status_code=303)


async def approve(request: Request) -> Response:
    services = state_of(request).services
    form = await _form(request) if request.method == "POST" else {}
    challenge = await services.oauth.store.challenge(
        form.get("challenge") or request.query_params.get("challenge", "")
    )
    subject = await services.oauth.browser_subject(request.cookies.get(COOKIE))
    user_code = dict(challenge.params).get("user_code", "") if challenge else ""
    found = await services.oauth_devices.pending(user_code) if user_code else None
    if challenge is None or subject is None or found is None:
        return expired_page(request, _EXPIRED)
    device, client = found
    csp = html.page_csp([])
    t = page_text(request)
    if request.method == "GET":
        page = html.device_approve_page(
            t,
            client.name,
            device.scope.split(),
            display_user_code(device.user_code),
            subject.email,
            APPROVE_PATH,
            {"challenge": challenge.id, "csrf": challenge.csrf},
        )
        return page_response(page, csp)
    if not hmac.compare_digest(challenge.csrf.encode(), form.get("csrf", "").encode()):
        return expired_page(request, _EXPIRED)
    allow = form.get("decision") == "allow"
    await services.oauth.store.drop_challenge(challenge.id)
    if not await services.oauth_devices.answer(user_code, subject, approve=allow):
        return expired_page(request, _EXPIRED)
    title = "device_approved_title" if allow else "device_denied_title"
    return page_response(html.notice_page(t, title, "device_return"), csp)
