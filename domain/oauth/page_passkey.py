"""The built-in sign-in page's passkey button: a usernameless passkey sign-in (the
browser offers this site's discoverable passkeys) begun for one pending authorization
request and finished only for it, through the same use case as ``beginPasskeyLogin`` /
``finishPasskeyLogin`` (domain/passkeys/sign_in.py: its counter, lock, audit and
second-factor rules, and its ``amr``).

The button is offered only where a passkey can work: the page's origin (the public
URL's) is one of ``GATEHOUSE_PASSKEY_ORIGINS`` and its host is the RP ID or below it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from domain.core.actor import Actor
from domain.core.settings import Settings
from domain.identity.login import LoginOutcome
from domain.oauth.headless import InvalidChallengeError
from domain.oauth.page_bindings import PageBindings
from domain.oauth.store import Challenge
from domain.passkeys.sign_in import PasskeySignIn, RequestOptions


def page_origin_allowed(settings: Settings) -> bool:
    parts = urlsplit(settings.public_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    host = (parts.hostname or "").lower()
    rp_id = settings.passkey_rp_id.lower()
    on_rp = bool(rp_id) and (host == rp_id or host.endswith("." + rp_id))
    return on_rp and origin in {o.rstrip("/") for o in settings.passkey_origins}


class PagePasskeys:
    def __init__(self, settings: Settings, bindings: PageBindings, passkeys: PasskeySignIn) -> None:
        self.available = page_origin_allowed(settings)
        self._ttl = settings.passkey_challenge_ttl_seconds
        self._bindings = bindings
        self._passkeys = passkeys

    async def begin(self, challenge: Challenge) -> RequestOptions:
        """Request options for any of this site's passkeys, the attempt bound to the
        request. Raises: InvalidChallengeError (the button is not offered here)."""
        if not self.available:
            raise InvalidChallengeError
        begun = await self._passkeys.begin(email=None, challenge_token=None)
        await self._bindings.bind(
            "passkey", begun.attempt_id, challenge.id, browser=None, ttl=self._ttl
        )
        return begun

    async def finish(
        self, challenge: Challenge, *, attempt_id: str, credential: str, actor: Actor
    ) -> LoginOutcome:
        """Raises: InvalidChallengeError (an attempt begun for another request, unknown
        or spent), and what ``PasskeySignIn.finish`` raises."""
        if await self._bindings.take("passkey", attempt_id, browser=None) != challenge.id:
            raise InvalidChallengeError
        return await self._passkeys.finish(
            attempt_id=attempt_id, credential=credential, actor=actor
        )
