"""``/.well-known/jwks.json``: the public keys other services verify our tokens with."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


async def jwks(request: Request) -> Response:
    keys = request.state.gatehouse.access_tokens.keys
    return JSONResponse(keys.jwks(), headers={"Cache-Control": "public, max-age=300"})
