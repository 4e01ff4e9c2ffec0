"""The social providers' HTTP client lives and dies with the app (app.py's lifespan).

Its own module: the app here is started and stopped inside the test, and Beanie's
documents follow the last app started, so no other test may run after it in a module.
"""

from __future__ import annotations

from typing import Any

from domain.core.clock import FrozenClock
from tests.social.support import begin
from tests.support.asgi import AppWith, asgi_client


async def test_the_providers_client_is_closed_on_shutdown(
    app_with: AppWith, clock: FrozenClock, social_settings: dict[str, Any]
) -> None:
    async with app_with(clock=clock, **social_settings) as running:
        http = running.state.social_http
        async with asgi_client(running) as client:
            assert (await begin(client))["__typename"] == "SocialAuthorization"
        assert not http.is_closed
    # The lifespan's bounded close step: no connection to a provider outlives the app.
    assert http.is_closed
