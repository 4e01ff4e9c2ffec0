"""What the database says of a session's refresh rotations (domain/sessions/rotation_records.py)."""

from __future__ import annotations

import re

from beanie import PydanticObjectId

from domain.sessions.documents import RefreshFamily, RefreshRotation


async def recorded_generations(session_id: str | PydanticObjectId) -> list[int]:
    """The generations minted by rotations, in order (a scan: tests only)."""
    records = await RefreshRotation.find(
        {"_id": {"$regex": f"^{re.escape(str(session_id))}:"}}
    ).to_list()
    return sorted(int(r.id.rsplit(":", 1)[1]) for r in records)


async def live_generation(session_id: str | PydanticObjectId) -> int | None:
    """The generation of the session's one live refresh token; None once it ended."""
    family = await RefreshFamily.get(PydanticObjectId(str(session_id)))
    if family is None:
        return None
    return max([family.generation, *await recorded_generations(session_id)])
