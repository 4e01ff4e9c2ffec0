"""The device authorization grant (RFC 8628): a device without a browser (a CLI, a TV)
gets a device code and a short user code; the person signs in on another screen, types
the user code and approves; meanwhile the device polls the token endpoint.

Everything lives in Redis under the provider's prefix, codes under their SHA-256:
``device:<hash>`` the request (client, scope, user code, expiry, interval),
``device-user:<user code>`` which request a user code names, ``device-poll:<hash>`` when
the device last asked (``slow_down``), ``device-decision:<hash>`` the person's answer.
An approval is taken once (GETDEL) by the poll that turns it into tokens; the request
then disappears, so the device code cannot be redeemed twice.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass
from enum import StrEnum

from redis.asyncio import Redis

from domain.core.clock import Clock
from domain.core.secrets import token_hash
from domain.core.settings import Settings
from domain.oauth.outcomes import fields_of
from domain.oauth.store import Subject

DEVICE_AUTHORIZATION_PATH = "/oauth2/device_authorization"
VERIFICATION_PATH = "/oauth2/device"  # where the person types the user code
DEVICE_CODE_TTL_SECONDS = 600  # RFC 8628 §3.2 expires_in
POLL_INTERVAL_SECONDS = 5  # §3.2 interval, the default the specification names
# §6.1: 20 consonants (no vowels, so no words; no look-alike digits), 8 of them: 34 bits,
# against a request that lives 10 minutes and a code entry page that is rate limited.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8


class PollStatus(StrEnum):
    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    DENIED = "access_denied"
    EXPIRED = "expired_token"
    USED = "invalid_grant"  # approved and already redeemed, or never issued


@dataclass(slots=True)
class DeviceRequest:
    client_id: str
    scope: str
    user_code: str
    expires_at: int
    interval: int = POLL_INTERVAL_SECONDS
    device_hash: str = ""

    # authlib's DeviceCredentialMixin
    def get_client_id(self) -> str:
        return self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_user_code(self) -> str:
        return self.user_code


@dataclass(frozen=True, slots=True)
class PollResult:
    status: PollStatus | None  # None: approved, ``subject`` is who
    subject: Subject | None = None


def normalize_user_code(typed: str) -> str:
    """What a person types, as stored: case and separators do not matter (§6.1)."""
    return re.sub(r"[^A-Z]", "", typed.upper())[: USER_CODE_LENGTH * 2]


def display_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if len(code) == USER_CODE_LENGTH else code


class DeviceFlow:
    def __init__(self, redis: Redis, settings: Settings, clock: Clock) -> None:
        self._redis = redis
        self._prefix = f"{settings.redis_key_prefix}oauth:"
        self._clock = clock

    def _key(self, kind: str, value: str) -> str:
        return f"{self._prefix}{kind}:{value}"

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    async def start(self, client_id: str, scope: str) -> tuple[str, DeviceRequest]:
        """A new device code and its request (with a user code no other live request has)."""
        device_code = secrets.token_urlsafe(32)
        digest = token_hash(device_code)
        now = self._now()
        for _ in range(5):
            user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
            claimed = await self._redis.set(
                self._key("device-user", user_code), digest, ex=DEVICE_CODE_TTL_SECONDS, nx=True
            )
            if claimed:
                break
        else:  # pragma: no cover - 5 collisions in a 34-bit space
            raise RuntimeError("no free user code")
        request = DeviceRequest(client_id, scope, user_code, now + DEVICE_CODE_TTL_SECONDS)
        request.device_hash = digest
        # Kept past its expiry, so a device still polling hears expired_token (§3.5)
        # rather than invalid_grant.
        await self._redis.set(
            self._key("device", digest),
            json.dumps(asdict(request)),
            ex=2 * DEVICE_CODE_TTL_SECONDS,
        )
        return device_code, request

    async def by_device_code(self, device_code: str) -> DeviceRequest | None:
        if not isinstance(device_code, str) or not device_code or len(device_code) > 100:
            return None
        return await self._load(token_hash(device_code), live_only=False)

    async def by_user_code(self, typed: str) -> DeviceRequest | None:
        """The request a person's typed code names, while nobody has answered it."""
        code = normalize_user_code(typed)
        if len(code) != USER_CODE_LENGTH:
            return None
        digest = await self._redis.get(self._key("device-user", code))
        if digest is None:
            return None
        digest = digest.decode() if isinstance(digest, bytes) else digest
        return await self._load(digest, live_only=True)

    async def _load(self, digest: str, *, live_only: bool) -> DeviceRequest | None:
        raw = await self._redis.get(self._key("device", digest))
        if raw is None:
            return None
        request = DeviceRequest(**json.loads(raw))
        return request if request.expires_at > self._now() or not live_only else None

    async def decide(self, request: DeviceRequest, subject: Subject | None) -> bool:
        """The person's answer (``subject`` approves, None denies), once per user code.
        Returns False when the code was answered already (or expired meanwhile)."""
        taken = await self._redis.getdel(self._key("device-user", request.user_code))
        if taken is None:
            return False
        ttl = max(1, request.expires_at - self._now())
        if subject is None:
            decision: dict[str, object] = {"approved": False}
        else:
            grant = Subject(**{**fields_of(subject), "grant_id": secrets.token_urlsafe(16)})
            decision = {"approved": True, "subject": asdict(grant)}
        await self._redis.set(
            self._key("device-decision", request.device_hash), json.dumps(decision), ex=ttl
        )
        return True

    async def poll(self, request: DeviceRequest) -> PollResult:
        """What the device's token request gets (§3.5), in authlib's order: expiry, then
        the person's answer, then the polling pace."""
        now = self._now()
        if request.expires_at <= now:
            return PollResult(PollStatus.EXPIRED)
        decision_key = self._key("device-decision", request.device_hash)
        raw = await self._redis.get(decision_key)
        if raw is not None:
            decision = json.loads(raw)
            if not decision["approved"]:
                return PollResult(PollStatus.DENIED)
            # Taken once: a concurrent poll finds nothing and the device code is spent.
            if await self._redis.getdel(decision_key) is None:
                return PollResult(PollStatus.USED)
            await self._redis.delete(self._key("device", request.device_hash))
            return PollResult(None, Subject(**decision["subject"]))
        last = await self._redis.set(
            self._key("device-poll", request.device_hash),
            str(now),
            ex=DEVICE_CODE_TTL_SECONDS,
            get=True,
        )
        if last is not None and now - int(last) < request.interval:
            return PollResult(PollStatus.SLOW_DOWN)
        return PollResult(PollStatus.PENDING)
