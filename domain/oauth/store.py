"""What the provider keeps in Redis: authorization codes, refresh tokens, revocations,
browser sessions of the sign-in page and pending authorization requests (challenges).

Codes and refresh tokens are stored under their SHA-256. A code is consumed with GETDEL,
so two requests racing with one code cannot both win; a consumed one leaves a marker
naming its grant, and presenting it again revokes that grant (RFC 9700 §4.5 code
replay). Refresh tokens rotate through domain/oauth/refresh_ledger.py (§4.14).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from redis.asyncio import Redis

from domain.core.secrets import token_hash
from domain.core.settings import Settings
from domain.identity.validation import validate_email

CODE_TTL_SECONDS = 60  # RFC 6749 §4.1.2: short-lived; 10 minutes at most
USED_MARKER_SECONDS = 3600
CHALLENGE_TTL_SECONDS = 600
GRANT_MEMORY_SECONDS = 366 * 24 * 3600  # as long as a grant's revocation marker
REVOKED = "revoked"  # a grant's revocation record, unless refresh-token reuse ended it


@dataclass(slots=True)
class Subject:
    """The signed-in person a grant acts for (authlib's ``user``)."""

    user_id: str
    sid: str
    auth_time: int
    amr: list[str]
    grant_id: str = ""
    email: str = ""
    email_verified: bool = False
    name: str = ""


@dataclass(slots=True)
class CodeRecord:
    client_id: str
    redirect_uri: str
    scope: str
    subject: Subject
    grant_id: str
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    # authlib's AuthorizationCodeMixin
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.subject.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str]:
        return self.subject.amr


@dataclass(slots=True)
class RefreshRecord:
    client_id: str
    scope: str
    subject: Subject
    grant_id: str
    expires_at: int  # absolute: rotation does not extend the grant
    # Only in records written before the grant's secret was derived from the server key
    # (domain/oauth/refresh.py): that token's successor is still derived under it, so it
    # refreshes as it was promised; no record written since holds one.
    chain: str = ""

    # authlib's TokenMixin, as far as the refresh grant reads it
    def check_client(self, client: Any) -> bool:
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        return self.scope


@dataclass(slots=True)
class Challenge:
    """An authorization request waiting for the sign-in or the consent page."""

    id: str
    params: list[tuple[str, str]]
    client_id: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    # Set by the sign-in page: this browser session signed in for this request, so
    # prompt=login and max_age are satisfied.
    signed_in_session: str | None = None
    # The user who approved the consent screen for this request.
    consented_by: str | None = None
    # Where the sign-in page sends the browser afterwards; the authorization endpoint
    # when None (the device flow's approval page sets its own).
    resume: str | None = None
    # When the request was first held (unix seconds): a headless login UI's session
    # must have signed in after it for ``prompt=login`` (domain/oauth/headless.py).
    created_at: int = 0
    # The user the consent step is for (set when the consent screen is asked for): only
    # that user's session may accept or reject it in headless mode.
    consent_for: str | None = None

    @classmethod
    def new(cls, params: list[tuple[str, str]], client_id: str, now: int) -> Challenge:
        return cls(secrets.token_urlsafe(24), list(params), client_id, created_at=now)

    def login_hint(self) -> str | None:
        """The request's ``login_hint`` (OIDC Core §3.1.2.1) when it is an email address,
        the sign-in's only identifier; else None. A hint only: it pre-fills the email
        field of a sign-in form and nothing else trusts it."""
        hint = next((value for name, value in self.params if name == "login_hint"), "")
        if not hint or len(hint) > 320:
            return None
        email, errors = validate_email(hint, "login_hint")
        return email if not errors else None


def oauth_prefix(settings: Settings) -> str:
    """Where the provider's Redis keys live: ``<prefix><kind>:<value>``."""
    return f"{settings.redis_key_prefix}oauth:"


def _subject(data: dict[str, Any]) -> Subject:
    return Subject(**data)


class OAuthStore:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self._redis = redis
        self._prefix = oauth_prefix(settings)
        self._browser_ttl = settings.refresh_token_absolute_seconds

    def _key(self, kind: str, value: str) -> str:
        return f"{self._prefix}{kind}:{value}"

    # --- authorization codes ---
    async def save_code(self, code: str, record: CodeRecord) -> None:
        await self._redis.set(
            self._key("code", token_hash(code)), json.dumps(asdict(record)), ex=CODE_TTL_SECONDS
        )

    async def take_code(self, code: str) -> CodeRecord | None:
        """The code's record, once. A second use revokes what the first one was given."""
        digest = token_hash(code)
        raw = await self._redis.getdel(self._key("code", digest))
        if raw is None:
            grant = await self._redis.get(self._key("code-used", digest))
            if grant is not None:
                await self.revoke_grant(grant.decode() if isinstance(grant, bytes) else grant)
            return None
        data = json.loads(raw)
        record = CodeRecord(**{**data, "subject": _subject(data["subject"])})
        await self._redis.set(
            self._key("code-used", digest), record.grant_id, ex=USED_MARKER_SECONDS
        )
        return record

    # --- refresh tokens ---
    async def peek_refresh(self, token: str) -> RefreshRecord | None:
        raw = await self._redis.get(self._key("rt", token_hash(token)))
        return refresh_record(raw) if raw is not None else None

    async def drop_refresh(self, token: str) -> None:
        await self._redis.delete(self._key("rt", token_hash(token)))

    # --- revocation ---
    async def revoke_grant(self, grant_id: str, *, reason: str = REVOKED) -> None:
        """Every token of the grant stops: refresh (checked on use) and access (checked by
        introspection and userinfo). The reason tells a refused refresh afterwards whether
        a replay ended the grant (domain/oauth/refresh.py)."""
        key = self._key("grant-revoked", grant_id)
        await self._redis.set(key, reason.encode(), ex=GRANT_MEMORY_SECONDS)

    async def grant_revocation(self, grant_id: str) -> str | None:
        """Why the grant was revoked (a record from before reasons reads ``"1"``), or None."""
        raw = await self._redis.get(self._key("grant-revoked", grant_id))
        if raw is None:
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def revoke_access(self, jti: str, ttl: int) -> None:
        await self._redis.set(self._key("jti-revoked", jti), b"1", ex=max(1, ttl))

    async def is_revoked(
        self, *, grant_id: str | None, jti: str | None, also: tuple[str, ...] = ()
    ) -> bool:
        """Whether the grant or the token was revoked, or any of the records ``also``
        names exists (a session's revocation record: one EXISTS for all of them)."""
        return await self.is_revoked_any(
            self.revocation_keys(grant_id=grant_id, jti=jti, also=also)
        )

    async def is_revoked_any(self, keys: list[str]) -> bool:
        """Whether any of these revocation records exists (one EXISTS)."""
        return bool(keys) and bool(await self._redis.exists(*keys))

    def revocation_keys(
        self, *, grant_id: str | None, jti: str | None, also: tuple[str, ...] = ()
    ) -> list[str]:
        """The records any of which, existing, means the token is revoked."""
        keys = list(also)
        if grant_id:
            keys.append(self._key("grant-revoked", grant_id))
        if jti:
            keys.append(self._key("jti-revoked", jti))
        return keys

    # --- each person's grants per client (revoking an authorized app), and their last use ---
    async def remember_grant(
        self, user_id: str, client_id: str, grant_id: str, *, used_at: int | None
    ) -> None:
        pair = f"{user_id}:{client_id}"
        pipe = self._redis.pipeline(transaction=False)
        pipe.sadd(self._key("grants", pair), grant_id)
        pipe.expire(self._key("grants", pair), GRANT_MEMORY_SECONDS)
        if used_at is not None:
            pipe.set(self._key("used", pair), used_at, ex=GRANT_MEMORY_SECONDS)
        await pipe.execute()

    async def take_grants(self, user_id: str, client_id: str) -> list[str]:
        """Every grant remembered for the pair, and forgets them (MULTI: one step)."""
        key = self._key("grants", f"{user_id}:{client_id}")
        pipe = self._redis.pipeline(transaction=True)
        pipe.smembers(key)
        pipe.delete(key)
        members, _ = await pipe.execute()
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    async def last_used(self, user_id: str, client_ids: list[str]) -> dict[str, int]:
        if not client_ids:
            return {}
        values = await self._redis.mget([self._key("used", f"{user_id}:{c}") for c in client_ids])
        return {c: int(v) for c, v in zip(client_ids, values, strict=True) if v is not None}

    # --- the sign-in page's browser sessions ---
    async def open_browser_session(self, subject: Subject) -> str:
        token = secrets.token_urlsafe(32)
        await self._redis.set(
            self._key("browser", token_hash(token)),
            json.dumps(asdict(subject)),
            ex=self._browser_ttl,
        )
        return token

    async def browser_session(self, token: str) -> Subject | None:
        if not token or len(token) > 100:
            return None
        raw = await self._redis.get(self._key("browser", token_hash(token)))
        return _subject(json.loads(raw)) if raw is not None else None

    async def end_browser_session(self, token: str) -> None:
        await self._redis.delete(self._key("browser", token_hash(token)))

    # --- pending authorization requests ---
    async def save_challenge(self, challenge: Challenge) -> None:
        await self._redis.set(
            self._key("challenge", challenge.id),
            json.dumps(asdict(challenge)),
            ex=CHALLENGE_TTL_SECONDS,
        )

    async def challenge(self, challenge_id: str) -> Challenge | None:
        if not challenge_id or len(challenge_id) > 100:
            return None
        raw = await self._redis.get(self._key("challenge", challenge_id))
        if raw is None:
            return None
        data = json.loads(raw)
        data["params"] = [tuple(pair) for pair in data["params"]]
        return Challenge(**data)

    async def drop_challenge(self, challenge_id: str) -> None:
        await self._redis.delete(self._key("challenge", challenge_id))

    async def claim_challenge_step(self, challenge_id: str, step: str) -> bool:
        """True for the first caller only (SET NX): a headless accept or reject of one
        step of a challenge wins once, however many race for it."""
        claimed = await self._redis.set(
            self._key("challenge-claim", f"{challenge_id}:{step}"),
            b"1",
            nx=True,
            ex=CHALLENGE_TTL_SECONDS,
        )
        return bool(claimed)

    # --- the return trip from a headless login UI (another origin) ---
    async def save_login_verifier(self, verifier: str, challenge_id: str, browser: str) -> None:
        await self._redis.set(
            self._key("login-verifier", token_hash(verifier)),
            json.dumps([challenge_id, browser]),
            ex=CHALLENGE_TTL_SECONDS,
        )

    async def take_login_verifier(self, verifier: str) -> tuple[str, str] | None:
        """(challenge id, browser session token), once (GETDEL)."""
        if not verifier or len(verifier) > 100:
            return None
        raw = await self._redis.getdel(self._key("login-verifier", token_hash(verifier)))
        if raw is None:
            return None
        challenge_id, browser = json.loads(raw)
        return str(challenge_id), str(browser)

    # --- logout requests waiting for the person's confirmation ---
    async def save_logout(self, request_id: str, request: Any) -> None:
        await self._redis.set(
            self._key("logout", request_id), json.dumps(asdict(request)), ex=CHALLENGE_TTL_SECONDS
        )

    async def logout(self, request_id: str) -> dict[str, Any] | None:
        if not request_id or len(request_id) > 100:
            return None
        raw = await self._redis.get(self._key("logout", request_id))
        return dict(json.loads(raw)) if raw is not None else None

    async def drop_logout(self, request_id: str) -> None:
        await self._redis.delete(self._key("logout", request_id))


def refresh_record(raw: bytes | str) -> RefreshRecord:
    data = json.loads(raw)
    return RefreshRecord(**{**data, "subject": _subject(data["subject"])})
