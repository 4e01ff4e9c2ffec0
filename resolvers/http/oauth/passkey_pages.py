"""The built-in sign-in page's passkey button (domain/oauth/page_passkey.py).

``/oauth2/static/passkey.js`` (same origin; the page's CSP allows script and fetch to
'self' only on the sign-in page that shows the button) posts the challenge and CSRF
token to ``/oauth2/login/passkey/begin`` for the request options, asks the browser for
an assertion, and submits it with a plain form post to ``/oauth2/login/passkey``, which
answers as the password form does: the code step, the page with what went wrong, or the
browser session and the authorization request.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from domain.core.errors import DomainError
from domain.oauth.headless import InvalidChallengeError
from resolvers.http.oauth.adapter import actor_from, state_of
from resolvers.http.oauth.pages import (
    EXPIRED,
    code_step,
    expired_page,
    limit_sign_in,
    login_page_response,
    page_text,
    posted_request,
    said,
    signed_in,
)

_SCRIPT = (Path(__file__).parent / "static" / "passkey.js").read_bytes()


async def script(request: Request) -> Response:
    return Response(
        _SCRIPT,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def begin(request: Request) -> Response:
    posted = await posted_request(request)
    if posted is None:
        return _json({"error": page_text(request).text(EXPIRED)}, 400)
    try:
        await limit_sign_in(request)
        begun = await state_of(request).services.oauth_passkey_page.begin(posted[1])
    except DomainError as error:
        return _json({"error": said(page_text(request, posted[1]), error)}, 400)
    options = orjson.loads(begun.options_json)
    return _json({"attemptId": begun.attempt_id, "options": options}, 200)


async def finish(request: Request) -> Response:
    posted = await posted_request(request)
    if posted is None:
        return expired_page(request)
    form, challenge, name, uris = posted
    try:
        await limit_sign_in(request)
        outcome = await state_of(request).services.oauth_passkey_page.finish(
            challenge,
            attempt_id=form.get("attempt", ""),
            credential=form.get("credential", ""),
            actor=actor_from(request),
        )
    except InvalidChallengeError:
        return expired_page(request)
    except DomainError as error:
        return await login_page_response(request, challenge, name, uris, error, status=400)
    if outcome.challenge is not None:  # a passkey without user verification: the code step
        hidden = {"challenge": challenge.id, "csrf": challenge.csrf, "mfa": outcome.challenge.token}
        return code_step(request, challenge, name, uris, hidden)
    return await signed_in(request, challenge, outcome, mfa=False)


def _json(body: dict[str, object], status: int) -> Response:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
