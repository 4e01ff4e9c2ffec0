"""The emailed data-export link: ``GET /api/privacy/export?token=...``
(GATEHOUSE_EXPORT_DOWNLOAD_PATH).

The link's token works once (two racing downloads: one gets the file, the other the
JSON error); the file is unlinked before the first byte is sent and streamed from the
open handle. The token travels in the query string, which the access log leaves out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import IO

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from resolvers.http.oauth.adapter import actor_from, state_of

CHUNK_BYTES = 64 * 1024


async def _chunks(handle: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


async def download_export(request: Request) -> Response:
    """Raises ExportUnavailableError (404, the REST error body) for a dead link."""
    exports = state_of(request).services.privacy.exports
    handle = await exports.open_download(request.query_params.get("token"), actor_from(request))
    return StreamingResponse(
        _chunks(handle),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="gatehouse-personal-data.json"',
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )
