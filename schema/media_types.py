"""Which response media type a GraphQL-over-HTTP client gets, and what it implies.

The GraphQL-over-HTTP specification defines two: ``application/graphql-response+json``
(a request error is a 4xx without a ``data`` entry, so clients such as Apollo Client 4
can read the error codes of a 4xx) and ``application/json`` (a well-formed request is
answered 200 even when the document cannot run). A client that names neither (``*/*``,
no ``Accept``) gets ``application/json`` as Gatehouse always answered it: request errors
are 400 with ``"data": null``.
"""

from __future__ import annotations

from enum import Enum

import orjson
from starlette.responses import Response

from schema.errors import http_error_body

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


class ResponseMedia(Enum):
    GRAPHQL_RESPONSE = "graphql-response"
    JSON = "json"
    LEGACY_JSON = "legacy-json"

    @property
    def content_type(self) -> str:
        if self is ResponseMedia.GRAPHQL_RESPONSE:
            return f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
        return "application/json"

    def request_error_status(self) -> int:
        """The status of a well-formed request whose document cannot run."""
        return 200 if self is ResponseMedia.JSON else 400

    @property
    def request_errors_carry_data(self) -> bool:
        # The GraphQL spec: no data entry when execution never started. The legacy
        # answer kept "data": null, and clients written against it may read it.
        return self is ResponseMedia.LEGACY_JSON


_BY_MEDIA_RANGE = {
    GRAPHQL_RESPONSE_JSON: ResponseMedia.GRAPHQL_RESPONSE,
    "application/json": ResponseMedia.JSON,
    "application/*": ResponseMedia.LEGACY_JSON,
    "*/*": ResponseMedia.LEGACY_JSON,
}
_PREFERENCE = {
    ResponseMedia.GRAPHQL_RESPONSE: 2,
    ResponseMedia.JSON: 1,
    ResponseMedia.LEGACY_JSON: 0,
}
_MAX_ACCEPT_CHARS = 1024  # a header is client-chosen: parse a bounded prefix


def negotiate(accept: str | None) -> ResponseMedia:
    """The best media type the ``Accept`` header allows (quality first, then ours)."""
    best: ResponseMedia | None = None
    best_quality = 0.0
    for entry in (accept or "")[:_MAX_ACCEPT_CHARS].split(","):
        media_range, *parameters = entry.split(";")
        media = _BY_MEDIA_RANGE.get(media_range.strip().lower())
        if media is None:
            continue
        quality = _quality(parameters)
        if quality is None or quality <= 0:
            continue
        if best is None or (quality, _PREFERENCE[media]) > (best_quality, _PREFERENCE[best]):
            best, best_quality = media, quality
    return best or ResponseMedia.LEGACY_JSON


def _quality(parameters: list[str]) -> float | None:
    """The q value, or None when the entry asks for a charset other than UTF-8."""
    quality = 1.0
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        name, value = name.strip().lower(), value.strip().strip('"').lower()
        if name == "charset" and value not in ("utf-8", "utf8"):
            return None
        if name == "q":
            try:
                quality = float(value)
            except ValueError:
                return None
    return quality


def error_response(
    media: ResponseMedia,
    status: int,
    message: str,
    code: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """A request the server would not run, in the GraphQL error shape of ``media``."""
    body = http_error_body(message, code)
    if not media.request_errors_carry_data:
        body.pop("data", None)
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=media.content_type
    )


def label(response: Response, media: ResponseMedia) -> None:
    """Name the negotiated media type on a JSON answer (not on GraphiQL's page)."""
    if media is ResponseMedia.GRAPHQL_RESPONSE and response.headers.get(
        "content-type", ""
    ).startswith("application/json"):
        response.headers["content-type"] = media.content_type
