"""Where webhooks may be sent: the SSRF policy the settings choose, checked at
registration and again before every attempt (DNS may have changed in between)."""

from __future__ import annotations

from domain.core.settings import Settings
from domain.webhooks.ssrf import ResolvedTarget, resolve_target_async


class TargetPolicy:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def allow_private(self) -> bool:
        return self._settings.webhook_allow_private_targets

    @property
    def require_https(self) -> bool:
        return self._settings.is_production and not self._settings.webhook_allow_private_targets

    async def resolve(self, url: str) -> ResolvedTarget:
        """The checked addresses of ``url``. Raises: WebhookTargetRefusedError."""
        return await resolve_target_async(
            url,
            allow_private=self.allow_private,
            require_https=self.require_https,
            lookup_seconds=self._settings.webhook_timeout_seconds,
        )
