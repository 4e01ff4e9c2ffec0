"""The per-request ceiling: one Starlette JSON route, nothing else, under the same uvicorn.

POST /json reads a JSON body and answers a small JSON object, like a GraphQL request does
without any GraphQL, middleware, database or Redis work.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def echo(request: Request) -> JSONResponse:
    body = await request.json()
    return JSONResponse({"data": {"__typename": "Query", "echo": len(body)}})


app = Starlette(routes=[Route("/json", echo, methods=["POST"])])
