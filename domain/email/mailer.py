"""The one function every outgoing email goes through (the domain's email port).

It renders a template (plain text, and HTML when there is one) and hands the
message to the transport. The email-queue work puts this behind a Dramatiq actor
with an outbox record; callers will not change.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from loguru import logger

from domain.core.settings import Settings
from domain.email.transport import EmailTransport

TEMPLATE_DIR = Path(__file__).parent / "templates"


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

    def render(self, template: str, to: str, context: dict[str, Any]) -> EmailMessage:
        values = {"product": self._settings.product_name, **context}
        text = self._env.get_template(f"{template}.txt").render(values)
        subject, _, body = text.partition("\n")
        message = EmailMessage()
        message["Subject"] = subject.removeprefix("Subject:").strip()
        name, address = parseaddr(self._settings.email_from)
        message["From"] = formataddr((name, address))
        message["To"] = to
        message.set_content(body.lstrip("\n"))
        html_name = f"{template}.html"
        if (TEMPLATE_DIR / html_name).exists():
            message.add_alternative(self._env.get_template(html_name).render(values), "html")
        return message

    async def send(self, template: str, to: str, **context: Any) -> bool:
        """Render and deliver; a failure is logged (without the body) and reported as False."""
        message = self.render(template, to, context)
        try:
            await self._transport.send(message)
        except Exception:
            logger.bind(template=template).exception("email delivery failed")
            return False
        logger.bind(template=template).info("email sent")
        return True
