"""Helpers of the enumeration tests: bulk seeding and a rank statistic (the command
counter is tests/support/commands.py)."""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from bson import ObjectId

from domain.core.roles import Role
from domain.identity.documents import User
from domain.identity.identifiers import LoginIdentifier

BATCH = 1000


async def seed_users(
    emails: list[str], password_hash: str, now: datetime, *, verified: bool = True
) -> None:
    """Users and their login identifiers in bulk, as registration leaves them: thousands
    in seconds, where registering each would hash a password apiece."""
    users = User.get_pymongo_collection()
    identifiers = LoginIdentifier.get_pymongo_collection()
    for start in range(0, len(emails), BATCH):
        docs: list[dict[str, Any]] = []
        for email in emails[start : start + BATCH]:
            user = User(
                email=email,
                first_name="Seeded",
                last_name="User",
                role=Role.STUDENT,
                email_verified=verified,
                email_verified_at=now if verified else None,
                password_hash=password_hash,
                password_changed_at=now,
                created_at=now,
                updated_at=now,
            )
            doc = user.model_dump(by_alias=True, exclude={"id"}, mode="python")
            doc["_id"] = ObjectId()
            docs.append(doc)
        await users.insert_many(docs, ordered=False)
        await identifiers.insert_many(
            [{"_id": d["email"], "user_id": d["_id"]} for d in docs], ordered=False
        )


def superiority(first: list[float], second: list[float]) -> float:
    """P(a sample of ``first`` exceeds one of ``second``), ties counting half: the
    Mann-Whitney U statistic over n1*n2. 0.5 is indistinguishable; 0 or 1 means every
    sample of one kind is on its own side, a perfect oracle."""
    wins = 0.0
    for a in first:
        for b in second:
            wins += 1.0 if a > b else 0.5 if a == b else 0.0
    return wins / (len(first) * len(second))


def trimmed(samples: list[float], share: float = 0.1) -> list[float]:
    """Without the slowest ``share`` (a noisy neighbour's stalls, a GC pause)."""
    ordered = sorted(samples)
    return ordered[: max(1, int(len(ordered) * (1 - share)))]


def median_ratio(first: list[float], second: list[float]) -> float:
    return statistics.median(first) / statistics.median(second)
