"""Helpers shared by the attack suite: audit look-ups, raw ASGI requests, state snapshots."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message

from domain.audit.documents import AuditEvent


async def audit_events(event: str, **match: Any) -> list[AuditEvent]:
    """Stored audit events of one kind, filtered by document fields (``target_id=...``)."""
    return await AuditEvent.find({"event": event, **match}).to_list()


async def raw_request(
    app: ASGIApp,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    query_string: bytes = b"",
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One HTTP request straight into the ASGI app, with header bytes no client library
    would let through (CR, LF, non-ASCII), so the server's own handling is what is tested."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("203.0.113.50", 50000),
        "server": ("testserver", 80),
    }
    sent = False
    messages: list[Message] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], list(start.get("headers", [])), content
