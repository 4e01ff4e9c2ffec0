"""Each rotation of a refresh family, recorded durably as one inserted document.

A rotation used to be one conditional update of the family document. FerretDB (the
embedded default) applies an update as a read-modify-write that costs it 3.5 times an
insert (0.92 against 0.26 ms of its CPU per command here), and that update was a third
of a whole refresh's CPU. So the family document keeps what does not change between
rotations (the sealed secret, lifetimes, methods, ``auth_time``) and the generation it
was opened at, and each rotation inserts ``RefreshRotation`` ``"<session>:<n>"``: when
generation ``n`` was minted and from which client context. Its ``_id`` is unique on
every MongoDB server, so a generation is recorded at most once even when Redis (which
decides the race first, rotation.py) has lost its claims.

Where a presented token stands needs no scan: its MAC proves generation ``n`` was
minted, a generation is minted only after the one before it, so the live generation is
``n`` unless ``n + 1`` is recorded, ``n + 1`` unless ``n + 2`` is too, and past that the
presentation is reuse whatever the live one is. A refresh reads these records only
when the family's Redis copy (family_cache.py, which rotations move) is missing. That
induction needs every handed-out generation recorded: the winning rotation answers after
its insert, and a grace answer, which may come before the winner's insert lands (or
instead of it, should it fail), reads the successor's record and writes it if missing.
A rotation that finds its generation recorded by another rotation (Redis lost its claims,
or came back from a stale snapshot) is a replay: reuse.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from domain.sessions.documents import RefreshFamily, RefreshRotation
from domain.sessions.issued import utc
from domain.sessions.rotation import Rotation


def record_id(session_id: PydanticObjectId | str | None, generation: int) -> str:
    return f"{session_id}:{generation}"


async def record_rotation(family: RefreshFamily, generation: int, rotation: Rotation) -> bool:
    """The one durable write of a rotation: ``generation`` of the family was minted by
    ``rotation``. True when it is recorded so, by this call or before (a grace answer
    records its successor too, so no token is handed out above a missing record: the
    rotation it answers for may yet fail to land). False when another rotation minted
    that generation: one Redis no longer knew of (its claims and copy lost, or restored
    stale), so the presented token was rotated already."""
    try:
        await RefreshRotation.get_pymongo_collection().insert_one(
            {
                "_id": record_id(family.id, generation),
                "user_id": family.user_id,
                "at": rotation.at,
                "context": rotation.context,
                "expires_at": family.expires_at,
            }
        )
    except DuplicateKeyError:
        recorded = await _minted(family.id, generation)
        return recorded is not None and recorded.same_as(rotation)
    return True


async def ensure_recorded(family: RefreshFamily, generation: int, rotation: Rotation) -> bool:
    """Before a grace answer hands out ``generation``: that it is recorded as minted by
    ``rotation`` (read; written here while that rotation has not landed yet)."""
    recorded = await _minted(family.id, generation)
    if recorded is None:
        return await record_rotation(family, generation, rotation)
    return recorded.same_as(rotation)


async def live_state(
    family: RefreshFamily, presented: int, idle: timedelta
) -> tuple[RefreshFamily, bool] | None:
    """The family as of its live generation, as far as a presentation of ``presented``
    (its MAC checked) needs it, and whether that is the live generation exactly (else
    it is at least two past ``presented``: reuse). None when ``presented`` was never
    recorded: a grace answer minted it while its rotation was landing, and the rotation
    never did, so the token is from a future that did not happen."""
    opened_at = family.generation
    standing = max(presented, opened_at)
    successor = await _minted(family.id, standing + 1)
    if successor is None:
        if standing == opened_at:
            return family, True
        minted = await _minted(family.id, standing)
        if minted is None:
            return None
        return _as_of(family, standing, minted, idle), True
    after = await _minted(family.id, standing + 2)
    if after is None:
        return _as_of(family, standing + 1, successor, idle), True
    return _as_of(family, standing + 2, after, idle), False


async def _minted(session_id: PydanticObjectId | None, generation: int) -> Rotation | None:
    found: dict[str, Any] | None = await RefreshRotation.get_pymongo_collection().find_one(
        {"_id": record_id(session_id, generation)}, projection={"at": 1, "context": 1}
    )
    return None if found is None else Rotation(utc(found["at"]), str(found["context"]))


def _as_of(
    family: RefreshFamily, generation: int, rotation: Rotation, idle: timedelta
) -> RefreshFamily:
    live: RefreshFamily = family.model_copy(
        update={
            "generation": generation,
            "rotated_at": rotation.at,
            "rotated_context": rotation.context,
            # As the rotation derived it (service.SessionService._rotate).
            "idle_expires_at": min(rotation.at + idle, utc(family.expires_at)),
        }
    )
    return live
