"""A real SMTP server (aiosmtpd) on a free port that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import re
import threading
from dataclasses import dataclass
from email.message import Message
from typing import Any

import services
from aiosmtpd.controller import Controller


@dataclass
class ReceivedMail:
    to: list[str]
    message: Message

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        for part in self.message.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload.decode()
        return ""

    def token(self) -> str:
        match = re.search(r"token=([A-Za-z0-9_-]{43})", self.text)
        assert match, self.text
        return match.group(1)


class _Handler:
    def __init__(self, inbox: MailInbox) -> None:
        self._inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        failure = self._inbox.take_failure()
        if failure is not None:
            return failure
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        self._inbox.add(ReceivedMail(to=list(envelope.rcpt_tos), message=message))
        return "250 Message accepted for delivery"


class MailInbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mails: list[ReceivedMail] = []
        self._failures: list[str] = []
        self.port = services.free_port()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> MailInbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def fail_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next ``count`` messages with ``reply`` instead of accepting them."""
        with self._lock:
            self._failures = [reply] * count

    def take_failure(self) -> str | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def add(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._mails.append(mail)

    def all(self, to: str | None = None) -> list[ReceivedMail]:
        with self._lock:
            return [m for m in self._mails if to is None or to in m.to]

    def clear(self) -> None:
        with self._lock:
            self._mails.clear()

    async def wait_for(
        self, to: str, subject_contains: str, *, count: int = 1, seconds: float = 10
    ) -> list[ReceivedMail]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            found = [m for m in self.all(to) if subject_contains.lower() in m.subject.lower()]
            if len(found) >= count:
                return found
            if loop.time() > deadline:
                subjects = [m.subject for m in self.all(to)]
                raise AssertionError(f"no mail '{subject_contains}' to {to}; got {subjects}")
            await asyncio.sleep(0.02)
