"""Every actor, so the broker set-up can bind them all to the broker in use."""

from __future__ import annotations

from typing import Any

from dramatiq import Actor

from workers.actors import system

ALL_ACTORS: tuple[Actor[Any, Any], ...] = (system.ping,)
