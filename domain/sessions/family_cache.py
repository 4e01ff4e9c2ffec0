"""A Redis copy of each refresh family, so a refresh reads no document.

The family document (documents.RefreshFamily) stays the durable record: every rotation
still writes it, and a missing copy is read from it again. The copy saves the refresh
its one read; it is kept true so:

- It is written whole only from a read of the document, and only when no rotation of
  the generation read has been claimed yet and no copy exists, by the rotation ledger's
  script (atomic with its claims): a read that raced a rotation cannot put an older
  generation back.
- A rotation moves only its generation and rotation fields, in the ledger's own script,
  atomically with its claim, and only while the copy is at the rotated generation.
- It is dropped when the family changes otherwise: the session ends (with the
  revocation record, domain/sessions/revocation.py) or re-authenticates.
- It lives at most ``access_token_ttl_seconds``, less than an ended session's
  revocation record, and the ledger's script checks that record before it reads or
  touches the copy: a copy that outlived a lost drop, or a read that raced the end,
  never refreshes an ended session. (Its rotation also needs the document, which the
  end deleted first.) A re-authentication racing a read can leave the older
  ``auth_time`` for that long: access tokens then claim an older authentication, which
  can only ask for a re-authentication sooner.
"""

from __future__ import annotations

from datetime import timedelta

from beanie import PydanticObjectId
from redis.asyncio import Redis

from domain.core.settings import Settings
from domain.sessions.documents import RefreshFamily
from domain.sessions.issued import utc
from domain.sessions.rotation import CopyFill, Rotation, family_copy_key


class RefreshFamilies:
    """Reads a session's refresh family for a refresh: the copy, else the document."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._idle = timedelta(seconds=settings.refresh_token_idle_seconds)

    def key(self, session_id: str) -> str:
        return family_copy_key(self._settings, session_id)

    async def load(
        self, session_id: PydanticObjectId
    ) -> tuple[RefreshFamily | None, CopyFill | None]:
        """The family as of its last rotation (None when the session may not refresh),
        and, when it was read from its document, the copy for the ledger to keep."""
        sid = str(session_id)
        doc, generation, rotation = await self._redis.hmget(self.key(sid), ["doc", "gen", "rot"])
        if doc is not None and generation is not None:
            return self._decoded(doc, generation, rotation), None
        family = await RefreshFamily.get(session_id)
        return family, None if family is None else self._fill(family)

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
