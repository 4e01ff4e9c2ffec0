"""A Redis copy of each refresh family, so a refresh reads no document.

The family document (documents.RefreshFamily, as opened) and its rotation records
(rotation_records.py: one insert per rotation) stay the durable record; a missing copy
is read from them again. The copy saves the refresh those reads; it is kept true so:

- It is written whole when the family is opened (nothing can have rotated it yet), and
  otherwise only from a read of the document and records, and only when no rotation of
  the generation read has been claimed yet and no copy exists, by the rotation ledger's
  script (atomic with its claims): a read that raced a rotation cannot put an older
  generation back.
- A rotation moves only its generation and rotation fields, in the ledger's own script,
  atomically with its claim, and only while the copy is at the rotated generation.
- It is dropped when the family changes otherwise: the session ends (with the
  revocation record, domain/sessions/revocation.py) or re-authenticates.
- It lives at most ``access_token_ttl_seconds`` from when it was written whole (a
  rotation moves it without extending its life), no longer than an ended session's
  revocation record, and the ledger's script checks that record before it reads or
  touches the copy: a read that raced the end never refreshes an ended session. A
  rotation writes no document the session's end removes (it inserts its record), so
  the copy's life is also the bound on a session ended while its revocation record
  could not be written (Redis unreachable from the instance that ended it) if that
  instance stops before its retry writes the record (revocation.py): it refreshes
  until its copy expires, as its access tokens are accepted for as long, then the
  refresh reads the database, where the family is gone. A re-authentication
  racing a read can leave the older ``auth_time`` for that long: access tokens then
  claim an older authentication, which can only ask for a re-authentication sooner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from beanie import PydanticObjectId
from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.core.settings import Settings
from domain.sessions.documents import RefreshFamily
from domain.sessions.issued import utc
from domain.sessions.rotation import CopyFill, Rotation, family_copy_key
from domain.sessions.rotation_records import live_state


class RefreshFamilies:
    """Reads a session's refresh family for a refresh: the copy, else the document."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._idle = timedelta(seconds=settings.refresh_token_idle_seconds)

    def key(self, session_id: str) -> str:
        return family_copy_key(self._settings, session_id)

    async def load(
        self, session_id: PydanticObjectId, presented: int
    ) -> tuple[RefreshFamily | None, CopyFill | None]:
        """The family as of its live generation, as far as a presentation of generation
        ``presented`` needs it (None when the session may not refresh), and, when it was
        read from the database, the copy for the ledger to keep."""
        sid = str(session_id)
        doc, generation, rotation = await self._redis.hmget(self.key(sid), ["doc", "gen", "rot"])
        if doc is not None and generation is not None:
            return self._decoded(doc, generation, rotation), None
        family = await RefreshFamily.get(session_id)
        if family is None:
            return None, None
        state = await live_state(family, presented, self._idle)
        if state is None:
            return None, None
        family, exact = state
        return family, self._fill(family) if exact else None

    async def keep(self, family: RefreshFamily) -> None:
        """The copy of a family just opened: its first refresh reads no document. Best
        effort: the session is open already, and without a copy a refresh reads the
        database (and the ledger keeps the copy then)."""
        fill = self._fill(family)
        key = self.key(str(family.id))
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(
                    key, mapping={"doc": fill.doc, "gen": fill.generation, "rot": fill.rotation}
                )
                pipe.expire(key, self._settings.access_token_ttl_seconds)
                await pipe.execute()
        except RedisError as exc:
            logger.bind(session_id=str(family.id)).warning("refresh family copy not kept: {}", exc)

    async def rotated_at(self, session_ids: Sequence[PydanticObjectId]) -> dict[str, datetime]:
        """When each session's live refresh token was minted, from the copies that exist
        (a rotation moves the copy, not the family document); none without Redis."""
        if not session_ids:
            return {}
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in session_ids:
                    pipe.hget(self.key(str(session_id)), "rot")
                replies = await pipe.execute()
        except RedisError as exc:
            # Best effort: ending every session of an account reads this list first.
            logger.warning("refresh times unavailable: {}", exc)
            return {}
        rotated: dict[str, datetime] = {}
        for session_id, raw in zip(session_ids, replies, strict=True):
            text = raw.decode() if isinstance(raw, bytes) else raw
            rotation = Rotation.decode(text) if text else None
            if rotation is not None:
                rotated[str(session_id)] = utc(rotation.at)
        return rotated

    async def forget(self, session_id: str) -> None:
        """After a write to the document other than a rotation."""
        await self._redis.delete(self.key(session_id))

    @staticmethod
    def _fill(family: RefreshFamily) -> CopyFill:
        rotated = (
            Rotation(family.rotated_at, family.rotated_context).encode()
            if family.rotated_at is not None and family.rotated_context is not None
            else ""
        )
        return CopyFill(family.model_dump_json(by_alias=True), family.generation, rotated)

    def _decoded(
        self, doc: bytes | str, generation: bytes | str, rotation: bytes | str | None
    ) -> RefreshFamily:
        family: RefreshFamily = RefreshFamily.model_validate_json(doc)
        family.generation = int(generation)
        text = rotation.decode() if isinstance(rotation, bytes) else rotation
        rotated = Rotation.decode(text) if text else None
        if rotated is not None:
            # As the rotation derived it (service.SessionService._rotate).
            family.rotated_at = rotated.at
            family.rotated_context = rotated.context
            family.idle_expires_at = min(utc(rotated.at) + self._idle, utc(family.expires_at))
        return family
