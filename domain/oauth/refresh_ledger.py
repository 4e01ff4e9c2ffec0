"""Which presentation of an OAuth refresh token rotates it, decided once in Redis.

FerretDB has no atomic read-modify-write and a refresh token must be used once, so one
Lua script per presentation decides: the first caller takes the token's record and
leaves, in the same step, the used marker (its grant, client, owner and Gatehouse
session, kept 30 days or until the token would have expired if later, so a reuse is
caught as long as the token could have been used) and the rotation (when, by which
client context, with the record it rotated; kept for the grace window and five minutes).
Every later caller gets the marker, the rotation while it is kept, and its own retry
number; domain/oauth/refresh.py turns that into a grace answer or reuse with the
sessions' grace rule.

The script is told which client is asking. A token belongs to one client (RFC 6749
§6), and authlib asks the grant for the token before it compares the token's client
with the caller's; so the script compares them first and leaves another client's token
as it was: neither taken, nor marked used, nor counted as a retry. Otherwise anyone
holding a leaked token could burn it as any public client and turn its owner's next
refresh into reuse.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis

from domain.core.secrets import token_hash
from domain.core.settings import Settings
from domain.oauth.store import RefreshRecord, oauth_prefix, refresh_record

USED_SECONDS = 30 * 24 * 3600  # a rotated token's marker: reuse is caught at least this long

# KEYS: rt, rt-used, rt-rotated, rt-retries; ARGV: the marker's shortest TTL, rotation
# TTL, rotation, the asking client's id, now (unix seconds, the app's clock).
# A marker without a client id (written before markers named it) cannot tell: as before.
_TAKE = """
local raw = redis.call('GET', KEYS[1])
if raw then
  local record = cjson.decode(raw)
  if record['client_id'] ~= ARGV[4] then return {3} end
  redis.call('DEL', KEYS[1])
  local subject = record['subject']
  local marker = cjson.encode({grant_id = record['grant_id'], client_id = record['client_id'],
                               user_id = subject['user_id'], sid = subject['sid']})
  local left = math.floor(tonumber(record['expires_at']) - tonumber(ARGV[5]))
  redis.call('SET', KEYS[2], marker, 'EX', math.max(tonumber(ARGV[1]), left))
  redis.call('SET', KEYS[3], cjson.encode({rotation = ARGV[3], record = raw}), 'EX', ARGV[2])
  return {1, raw}
end
local marker = redis.call('GET', KEYS[2])
if not marker then return {0} end
local named, owner = pcall(cjson.decode, marker)
if named and type(owner) == 'table' and owner['client_id'] and owner['client_id'] ~= ARGV[4] then
  return {3}
end
local count = redis.call('INCR', KEYS[4])
if count == 1 then redis.call('EXPIRE', KEYS[4], ARGV[2]) end
return {2, marker, redis.call('GET', KEYS[3]) or '', count}
"""
# KEYS: rt, rt-used; ARGV: record, TTL.
_SAVE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""


@dataclass(frozen=True, slots=True)
class TakenRefresh:
    """This caller rotated the token."""

    record: RefreshRecord


@dataclass(frozen=True, slots=True)
class ForeignRefresh:
    """The token belongs to another client: it was left as it was."""


@dataclass(frozen=True, slots=True)
class RotatedRefresh:
    """The token was rotated before: its grant, owner and Gatehouse session (from the
    used marker), the rotation and the record it rotated (while they are kept), and this
    retry's number."""

    grant_id: str
    user_id: str
    client_id: str
    sid: str
    rotation: str | None
    record: RefreshRecord | None
    retry: int


class RefreshLedger:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._prefix = oauth_prefix(settings)
        # A rotation outlives any request that read the token before it was made.
        self._rotation_ttl = settings.refresh_token_grace_seconds + 300
        self._take = redis.register_script(_TAKE)
        self._save = redis.register_script(_SAVE)

    def _key(self, kind: str, token: str) -> str:
        return f"{self._prefix}{kind}:{token_hash(token)}"

    async def take(
        self, token: str, client_id: str, rotation: str, now: int
    ) -> TakenRefresh | RotatedRefresh | ForeignRefresh | None:
        """The token's record for the first caller of the client it belongs to
        (``rotation``: when and by whom, as ``Rotation.encode`` writes it); what the
        rotation left for every later one; ForeignRefresh, and nothing changed, for
        another client."""
        kinds = ("rt", "rt-used", "rt-rotated", "rt-retries")
        keys = [self._key(kind, token) for kind in kinds]
        args: list[str | int] = [USED_SECONDS, self._rotation_ttl, rotation, client_id, now]
        reply = await self._take(keys=keys, args=args)
        if int(reply[0]) == 1:
            return TakenRefresh(refresh_record(reply[1]))
        if int(reply[0]) == 0:
            return None
        if int(reply[0]) == 3:
            return ForeignRefresh()
        marker = _marker(reply[1])
        rotated = json.loads(reply[2]) if reply[2] else None
        record = refresh_record(rotated["record"]) if rotated else None
        return RotatedRefresh(
            grant_id=str(marker["grant_id"]),
            user_id=str(marker.get("user_id", "")),
            client_id=str(marker.get("client_id", "")),
            # A marker from before markers named the session: the rotated record's, if kept.
            sid=str(marker.get("sid") or (record.subject.sid if record else "")),
            rotation=str(rotated["rotation"]) if rotated else None,
            record=record,
            retry=int(reply[3]),
        )

    async def save_unless_used(self, token: str, record: RefreshRecord, now: int) -> None:
        """Store a successor, unless it is stored already or was already used: a grace
        answer saves the same successor its rotation did, and must not bring back one the
        client has since rotated."""
        keys = [self._key("rt", token), self._key("rt-used", token)]
        ttl = max(1, record.expires_at - now)
        await self._save(keys=keys, args=[json.dumps(asdict(record)), ttl])

    async def used(self, token: str) -> bool:
        return bool(await self._redis.exists(self._key("rt-used", token)))


def _marker(raw: bytes | str) -> dict[str, Any]:
    """A used marker; one written before markers named the owner holds the grant id only."""
    try:
        found = json.loads(raw)
    except ValueError:
        found = None
    if isinstance(found, dict):
        return found
    return {"grant_id": raw.decode() if isinstance(raw, bytes) else raw}
