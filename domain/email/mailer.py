"""Render templates (plain text, and HTML when there is one) and hand them to a transport.

Requests never call this: they record a message in the outbox (domain/email/outbox.py)
and the ``email.send`` actor renders and delivers it.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain.core.settings import Settings
from domain.email.transport import EmailTransport, OnAccepted

TEMPLATE_DIR = Path(__file__).parent / "templates"
_ACTIONS = {
    "verify_email": "Confirm email",
    "password_reset": "Reset password",
    "account_locked": "Unlock account",
    "email_change_confirm": "Confirm new email",
    "data_export_ready": "Download your data",
    "account_deletion_scheduled": "Keep my account",
}


class Mailer:
    def __init__(self, settings: Settings, transport: EmailTransport) -> None:
        self._settings = settings
        self._transport = transport
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def link(self, path: str, token: str) -> str:
        return f"{self._settings.frontend_url.rstrip('/')}{path}?token={token}"

    def render(
        self, template: str, to: str, context: dict[str, Any], message_id: str | None = None
    ) -> EmailMessage:
        """``message_id`` (the outbox id) makes the Message-ID stable across attempts, so
        a mailbox recognises a repeated delivery as the same message."""
        values = {"product": self._settings.product_name, **context}
        text = self._env.get_template(f"{template}.txt").render(values)
        subject, _, body = text.partition("\n")
        message = EmailMessage()
        message["Subject"] = subject.removeprefix("Subject:").strip()
        name, address = parseaddr(self._settings.email_from)
        message["From"] = formataddr((name, address))
        message["To"] = to
        if message_id is not None:
            domain = address.rpartition("@")[2] or "gatehouse.local"
            message["Message-ID"] = f"<{message_id}@{domain}>"
        text_body = body.lstrip("\n")
        message.set_content(text_body)
        # Every email also has a responsive HTML part built from the same text, with
        # the link (if any) as a button, so the two parts never disagree.
        paragraphs = [" ".join(p.split()) for p in text_body.split("\n\n") if p.strip()]
        html = self._env.get_template("_layout.html").render(
            values,
            subject=message["Subject"],
            paragraphs=paragraphs,
            link=values.get("link"),
            action=_ACTIONS.get(template, "Open"),
            brand_color=self._settings.email_brand_color,
        )
        message.add_alternative(html, "html")
        return message

    async def deliver(self, message: EmailMessage, on_accepted: OnAccepted | None = None) -> str:
        """Hand a rendered message to the transport; returns the provider's message id."""
        return await self._transport.send(message, on_accepted)
