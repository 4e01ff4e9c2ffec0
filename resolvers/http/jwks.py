"""``/.well-known/jwks.json``: the public keys other services verify our tokens with."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from resolvers.http.state import AppState

# Verifiers may cache the set this long; a rotated-in key must be published (as a
# verify-only key) at least this long before it becomes the active signer.
CACHE_CONTROL = "public, max-age=300"


async def jwks(request: Request) -> Response:
    state: AppState = request.state.gatehouse
    # First-party keys (EdDSA/ES256) and the OpenID provider's RS256 keys, one set.
    document = state.services.access_tokens.keys.jwks()
    document["keys"].extend(state.services.oauth.tokens.keys.jwks())
    return JSONResponse(document, headers={"Cache-Control": CACHE_CONTROL})
