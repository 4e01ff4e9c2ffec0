"""Who rotates a refresh token, decided once in Redis, and the refresh grace rule.

FerretDB applies an update as read-modify-write, so two racing rotations of one
generation cannot be told apart by a conditional update alone. One Lua script per
presentation decides atomically: the first caller claims ``gen:<n>`` and rotates;
every later caller of generation ``n`` reads the claim (when and from which client
context it was made), whether the successor ``n + 1`` was itself claimed (used), and
its own retry number. The grace rule then turns that into a grace answer or reuse.
The winning claim also moves the Redis copy of the family (family_cache.py) to the new
generation, in the same script.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from domain.core.settings import Settings

# At most this many grace answers per rotation; the next presentation is reuse.
MAX_GRACE_RETRIES = 5

_SCRIPT = """
if redis.call('EXISTS', KEYS[4]) == 1 then return {2} end
if ARGV[8] ~= '' and redis.call('EXISTS', KEYS[5]) == 0
    and redis.call('EXISTS', KEYS[6]) == 0 then
  redis.call('HSET', KEYS[5], 'doc', ARGV[8], 'gen', ARGV[9], 'rot', ARGV[10])
  redis.call('EXPIRE', KEYS[5], ARGV[7])
end
if ARGV[1] == 'rotate' then
  if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[3]) then
    if redis.call('HGET', KEYS[5], 'gen') == ARGV[5] then
      redis.call('HSET', KEYS[5], 'gen', ARGV[6], 'rot', ARGV[2])
    end
    return {1}
  end
end
local rotated = redis.call('GET', KEYS[1]) or ''
local used = redis.call('EXISTS', KEYS[2])
local count = redis.call('INCR', KEYS[3])
if count == 1 then redis.call('EXPIRE', KEYS[3], ARGV[4]) end
return {0, rotated, used, count}
"""


def refresh_key_prefix(settings: Settings) -> str:
    """Where a session's refresh state lives in Redis: the ledger's claims, the copy."""
    return f"{settings.redis_key_prefix}refresh:"


def claim_key(settings: Settings, session_id: str, generation: int) -> str:
    """The claim that ``generation`` of the session was rotated."""
    return f"{refresh_key_prefix(settings)}{session_id}:gen:{generation}"


def family_copy_key(settings: Settings, session_id: str) -> str:
    """The Redis copy of the session's refresh family (family_cache.py)."""
    return f"{refresh_key_prefix(settings)}{session_id}:family"


@dataclass(frozen=True, slots=True)
class Rotation:
    """When a generation was rotated, and the client context of the rotating request."""

    at: datetime
    context: str

    def encode(self) -> str:
        return f"{self.at.isoformat()}|{self.context}"

    def same_as(self, other: Rotation) -> bool:
        """The same rotation, one side read back from the database (which keeps
        milliseconds)."""
        return self.context == other.context and abs(
            _aware(self.at) - _aware(other.at)
        ) < timedelta(milliseconds=1)

    @classmethod
    def decode(cls, value: str) -> Rotation | None:
        at, _, context = value.partition("|")
        try:
            return cls(datetime.fromisoformat(at), context) if context else None
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class CopyFill:
    """A family as just read from its document, for its Redis copy (family_cache.py):
    written by the ledger's script unless a copy exists or its generation was claimed."""

    doc: str
    generation: int
    rotation: str


@dataclass(frozen=True, slots=True)
class LedgerAnswer:
    won: bool = False
    # The session's access tokens are refused already: it ended meanwhile.
    ended: bool = False
    rotation: Rotation | None = None
    successor_used: bool = False
    retry: int = 0


class RotationLedger:
    def __init__(self, redis: Redis, settings: Settings, revoked_key_prefix: str) -> None:
        self._redis = redis
        self._settings = settings
        self._prefix = refresh_key_prefix(settings)
        self._revoked = revoked_key_prefix
        # The copy lives no longer than the revocation record of an ended session.
        self._copy_ttl = str(settings.access_token_ttl_seconds)
        grace = settings.refresh_token_grace_seconds
        # A claim outlives any request that read the old generation before it was made.
        self._claim_ttl = str(grace + 300)
        self._retry_ttl = str(grace + 60)
        self._script = redis.register_script(_SCRIPT)

    async def rotate(
        self, session_id: str, generation: int, rotation: Rotation, fill: CopyFill | None
    ) -> LedgerAnswer:
        """Claim ``generation`` for this rotation; if it was claimed first, what the claim says."""
        return await self._run("rotate", session_id, generation, rotation.encode(), fill)

    async def retry(self, session_id: str, generation: int, fill: CopyFill | None) -> LedgerAnswer:
        """A presentation of an already rotated generation: its retry number and whether
        the successor was used."""
        return await self._run("retry", session_id, generation, "", fill)

    async def _run(
        self, mode: str, session_id: str, generation: int, value: str, fill: CopyFill | None
    ) -> LedgerAnswer:
        keys = [
            claim_key(self._settings, session_id, generation),
            claim_key(self._settings, session_id, generation + 1),
            f"{self._prefix}{session_id}:retries:{generation}",
            f"{self._revoked}{session_id}",
            family_copy_key(self._settings, session_id),
            claim_key(self._settings, session_id, fill.generation if fill else 0),
        ]
        args = [
            mode,
            value,
            self._claim_ttl,
            self._retry_ttl,
            str(generation),
            str(generation + 1),
            self._copy_ttl,
            fill.doc if fill else "",
            str(fill.generation) if fill else "",
            fill.rotation if fill else "",
        ]
        reply = await self._script(keys=keys, args=args)
        if int(reply[0]) == 1:
            return LedgerAnswer(won=True)
        if int(reply[0]) == 2:
            return LedgerAnswer(ended=True)
        raw = reply[1].decode() if isinstance(reply[1], bytes) else str(reply[1])
        return LedgerAnswer(
            rotation=Rotation.decode(raw),
            successor_used=int(reply[2]) == 1,
            retry=int(reply[3]),
        )


def grace_allows(
    *,
    grace_seconds: int,
    rotation: Rotation | None,
    context: str,
    now: datetime,
    successor_used: bool,
    retry: int,
) -> bool:
    """Whether a presentation of the immediately previous token gets the successor again:
    within the window of its rotation, from the rotating request's client context, the
    successor not used yet, and within the retry cap. Anything else is reuse."""
    if grace_seconds <= 0 or rotation is None or successor_used:
        return False
    if not 1 <= retry <= MAX_GRACE_RETRIES:
        return False
    if rotation.context != context:
        return False
    # Negative when this request read the clock before the rotating request did but lost
    # the claim to it (another worker, a slower path): it raced the rotation, which is
    # exactly what the grace is for (the bench's 4-way presentations lost sessions so).
    elapsed = _aware(now) - _aware(rotation.at)
    window = timedelta(seconds=grace_seconds)
    return -window <= elapsed <= window


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
