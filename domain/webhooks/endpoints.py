"""Managing webhook endpoints: register, change, rotate the secret, delete, list.

Every change is audited (without the secret). The signing secret leaves this module
twice only: returned by ``create`` and by ``rotate_secret``, shown to the caller once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import FieldError, NotFoundError, ValidationError
from domain.core.secrets import new_token
from domain.core.settings import Settings
from domain.webhooks import repository
from domain.webhooks.documents import WebhookEndpoint
from domain.webhooks.events import EVENT_TYPES, new_id
from domain.webhooks.ssrf import WebhookTargetRefusedError, check_syntax
from domain.webhooks.targets import TargetPolicy

SECRET_PREFIX = "whsec_"
MAX_DESCRIPTION = 500
MAX_OVERLAP_SECONDS = 30 * 24 * 3600


def new_secret() -> str:
    return SECRET_PREFIX + new_token()


def _event_errors(events: list[str]) -> tuple[list[str], list[FieldError]]:
    chosen = sorted({e.strip() for e in events if e.strip()})
    if not chosen:
        return chosen, [FieldError("events", "Choose at least one event type.", "REQUIRED")]
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        return chosen, [
            FieldError(
                "events",
                f"Unknown event types: {', '.join(unknown[:10])}.",
                "UNKNOWN_EVENT_TYPE",
            )
        ]
    return chosen, []


def _description_errors(description: str) -> tuple[str, list[FieldError]]:
    clean = description.strip()
    if len(clean) > MAX_DESCRIPTION:
        return clean, [
            FieldError("description", f"Use at most {MAX_DESCRIPTION} characters.", "INVALID")
        ]
    return clean, []


class WebhookEndpoints:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        targets: TargetPolicy,
        audit: AuditService,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._targets = targets
        self._audit = audit

    async def create(
        self, actor: Actor, url: str, events: list[str], description: str = ""
    ) -> tuple[WebhookEndpoint, str]:
        """Returns the endpoint and its signing secret, which is shown this once only.

        Raises: ValidationError (field ``url`` with code INVALID_URL, HTTPS_REQUIRED,
        UNRESOLVABLE or PRIVATE_ADDRESS; ``events``: REQUIRED or UNKNOWN_EVENT_TYPE;
        ``description``).
        """
        clean_url, errors = await self._url_errors(url)
        chosen, event_errors = _event_errors(events)
        clean_description, description_errors = _description_errors(description)
        errors += event_errors + description_errors
        if errors:
            raise ValidationError(errors)
        now = self._clock.now()
        secret = new_secret()
        endpoint = WebhookEndpoint(
            _id=new_id(),
            url=clean_url,
            description=clean_description,
            events=chosen,
            active=True,
            secret=secret,
            created_at=now,
            updated_at=now,
        )
        await repository.insert_endpoint(endpoint)
        await self._audit_record(
            actor,
            "webhook.endpoint_created",
            AuditAction.CREATE,
            endpoint.id,
            url=clean_url,
            events=",".join(chosen),
        )
        return endpoint, secret

    async def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        return await repository.get_endpoint(endpoint_id)

    async def list_all(self) -> list[WebhookEndpoint]:
        """Oldest first."""
        return await repository.list_endpoints()

    async def update(
        self,
        actor: Actor,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: list[str] | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> WebhookEndpoint:
        """Change what is given. Raises: NotFoundError, ValidationError."""
        endpoint = await self._existing(endpoint_id)
        changes: dict[str, Any] = {}
        errors: list[FieldError] = []
        if url is not None:
            clean_url, url_errors = await self._url_errors(url)
            errors += url_errors
            changes["url"] = clean_url
        if events is not None:
            chosen, event_errors = _event_errors(events)
            errors += event_errors
            changes["events"] = chosen
        if description is not None:
            clean_description, description_errors = _description_errors(description)
            errors += description_errors
            changes["description"] = clean_description
        if active is not None:
            changes["active"] = active
        if errors:
            raise ValidationError(errors)
        if not changes:
            return endpoint
        changes["updated_at"] = self._clock.now()
        await repository.set_endpoint_fields(endpoint_id, changes)
        await self._audit_record(
            actor,
            "webhook.endpoint_updated",
            AuditAction.UPDATE,
            endpoint_id,
            **{k: ",".join(v) if isinstance(v, list) else v for k, v in changes.items()},
        )
        return await self._existing(endpoint_id)

    async def delete(self, actor: Actor, endpoint_id: str) -> bool:
        """Remove the endpoint; its pending deliveries are marked failed. False if unknown."""
        endpoint = await repository.get_endpoint(endpoint_id)
        if endpoint is None:
            return False
        await repository.delete_endpoint(endpoint)
        await repository.fail_pending_deliveries(endpoint_id, "endpoint deleted", self._clock.now())
        await self._audit_record(actor, "webhook.endpoint_deleted", AuditAction.DELETE, endpoint_id)
        return True

    async def rotate_secret(
        self, actor: Actor, endpoint_id: str, overlap_seconds: int | None = None
    ) -> str:
        """A new signing secret, shown this once. The old one keeps signing alongside it for
        ``overlap_seconds`` (default ``webhook_secret_overlap_seconds``; 0 ends it now).

        Raises: NotFoundError, ValidationError.
        """
        overlap = (
            self._settings.webhook_secret_overlap_seconds
            if overlap_seconds is None
            else overlap_seconds
        )
        if not 0 <= overlap <= MAX_OVERLAP_SECONDS:
            raise ValidationError(
                [FieldError("overlapSeconds", "Use 0 to 2592000 seconds (30 days).", "INVALID")]
            )
        endpoint = await self._existing(endpoint_id)
        now = self._clock.now()
        secret = new_secret()
        await repository.set_endpoint_fields(
            endpoint_id,
            {
                "secret": secret,
                "previous_secret": endpoint.secret if overlap else None,
                "previous_secret_expires_at": now + timedelta(seconds=overlap) if overlap else None,
                "updated_at": now,
            },
        )
        await self._audit_record(
            actor,
            "webhook.secret_rotated",
            AuditAction.UPDATE,
            endpoint_id,
            overlap_seconds=overlap,
        )
        return secret

    async def _existing(self, endpoint_id: str) -> WebhookEndpoint:
        endpoint = await repository.get_endpoint(endpoint_id)
        if endpoint is None:
            raise NotFoundError("No such webhook endpoint.")
        return endpoint

    async def _url_errors(self, url: str) -> tuple[str, list[FieldError]]:
        clean = url.strip()
        try:
            check_syntax(clean, require_https=self._targets.require_https)
            await self._targets.resolve(clean)
        except WebhookTargetRefusedError as exc:
            return clean, [FieldError("url", exc.message, exc.reason)]
        return clean, []

    async def _audit_record(
        self, actor: Actor, event: str, action: AuditAction, endpoint_id: str, **after: Any
    ) -> None:
        await self._audit.record(
            event,
            action,
            actor=actor,
            target_id=endpoint_id,
            target_type="webhook_endpoint",
            after=after or None,
        )
