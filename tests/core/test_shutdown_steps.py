"""Shutdown steps are bounded: a stuck one is skipped, a cancelled task ends quietly."""

from __future__ import annotations

import asyncio

import pytest

import app


async def test_a_stuck_step_is_skipped_after_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "SHUTDOWN_STEP_SECONDS", 0.05)
    never = asyncio.get_running_loop().create_future()
    started = asyncio.get_running_loop().time()
    await app._bounded("stuck", never)
    assert asyncio.get_running_loop().time() - started < 1
    assert never.cancelled()


async def test_a_cancelled_task_ends_its_step_without_error() -> None:
    task = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.sleep(0)
    task.cancel()
    await app._bounded("cancelled", task)
    assert task.cancelled()


async def test_the_caller_being_cancelled_still_propagates() -> None:
    async def stopping() -> None:
        await app._bounded("slow", asyncio.sleep(3600))

    outer = asyncio.create_task(stopping())
    await asyncio.sleep(0.01)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
