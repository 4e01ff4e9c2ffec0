"""Per-request values that travel with the task (logs, jobs) without being passed around."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Accept what proxies and clients commonly send (UUIDs, ULIDs, hex trace ids) and
# nothing that could smuggle a header or a log line.
_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def new_request_id() -> str:
    return str(uuid.uuid4())


def accept_request_id(candidate: str | None) -> str:
    """The incoming id when it is well formed, else a fresh one."""
    if candidate and _REQUEST_ID_PATTERN.fullmatch(candidate):
        return candidate
    return new_request_id()


def current_request_id() -> str | None:
    return request_id_var.get()


user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str = ""
    user_agent: str = ""


_NO_CLIENT = ClientInfo()
client_info_var: ContextVar[ClientInfo] = ContextVar("client_info", default=_NO_CLIENT)
