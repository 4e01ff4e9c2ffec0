"""Email transports: SMTP for real deliveries, ``.eml`` files for development.

Both take an already-built :class:`email.message.EmailMessage`; rendering and
queueing live elsewhere. ``check()`` is what the health route calls.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib

from domain.core.settings import Settings

# Called with the provider's message id once the provider has taken the message,
# before the connection is closed (see domain/email/receipts.py for why).
OnAccepted = Callable[[str], Awaitable[None]]


class EmailTransport(Protocol):
    name: str

    async def send(self, message: EmailMessage, on_accepted: OnAccepted | None = None) -> str:
        """Deliver the message; return the provider's message id."""
        ...

    async def check(self) -> dict[str, object]:
        """Raise if the transport cannot deliver right now."""
        ...


class SmtpTransport:
    name = "smtp"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _client(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_use_tls,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
        )

    async def send(self, message: EmailMessage, on_accepted: OnAccepted | None = None) -> str:
        if "Message-ID" not in message:
            message["Message-ID"] = f"<{uuid.uuid4()}@{self._settings.service_name}>"
        provider_id = str(message["Message-ID"])
        async with self._client() as client:
            await client.send_message(message)
            if on_accepted is not None:
                await on_accepted(provider_id)
        return provider_id

    async def check(self) -> dict[str, object]:
        async with self._client() as client:
            await client.noop()
        return {"host": self._settings.smtp_host, "port": self._settings.smtp_port}


class FileTransport:
    """Writes each message as an ``.eml`` file, atomically, under the outbox folder."""

    name = "file"

    def __init__(self, outbox: Path) -> None:
        self._outbox = outbox

    async def send(self, message: EmailMessage, on_accepted: OnAccepted | None = None) -> str:
        message_id = str(uuid.uuid4())
        if "Message-ID" not in message:
            message["Message-ID"] = f"<{message_id}@gatehouse.local>"
        data = message.as_bytes()
        await asyncio.to_thread(self._write, f"{message_id}.eml", data)
        provider_id = str(message["Message-ID"])
        if on_accepted is not None:
            await on_accepted(provider_id)
        return provider_id

    def _write(self, name: str, data: bytes) -> None:
        self._outbox.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._outbox, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, self._outbox / name)

    async def check(self) -> dict[str, object]:
        await asyncio.to_thread(self._probe)
        return {"outbox": str(self._outbox)}

    def _probe(self) -> None:
        self._outbox.mkdir(parents=True, exist_ok=True)
        if not os.access(self._outbox, os.W_OK):
            raise PermissionError(f"outbox {self._outbox} is not writable")


def create_transport(settings: Settings) -> EmailTransport:
    if settings.email_backend == "smtp":
        return SmtpTransport(settings)
    return FileTransport(settings.mail_outbox)
