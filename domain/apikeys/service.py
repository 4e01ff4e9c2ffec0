"""API keys for machine callers, stored hashed, each with its own scopes and limit.

A key reads ``ghk_<id>_<secret>``: the id finds the record in one lookup, the
secret (256 bits) is compared against its SHA-256 in constant time.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.errors import FieldError, ValidationError
from domain.core.secrets import token_hash
from domain.ratelimit.limiter import Rule

_KEY_PATTERN = re.compile(r"^ghk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_SCOPE_PATTERN = re.compile(r"^[a-z]+:[a-z]+$")
# The most a key may be given (GATEHOUSE_API_KEY_MAX_RATE_LIMIT): without a ceiling a key's
# creator could hand it a budget far above every per-IP and per-user limit.
DEFAULT_MAX_RATE_LIMIT = "6000/60"


def _rate_limit_errors(spec: str, ceiling: Rule) -> list[FieldError]:
    try:
        rule = Rule.parse("api-key", spec)
    except ValueError:
        return [
            FieldError("rateLimit", "Write the limit as count/seconds, e.g. 1000/60.", "INVALID")
        ]
    # Compared as rates (count per second), without floating point.
    if rule.limit * ceiling.window_seconds > ceiling.limit * rule.window_seconds:
        message = (
            f"At most {ceiling.limit}/{ceiling.window_seconds} "
            f"(requests/seconds); an operator sets the ceiling."
        )
        return [FieldError("rateLimit", message, "TOO_HIGH")]
    return []


class ApiKey(Document):
    id: str = Field(alias="_id")  # type: ignore[assignment]
    name: str
    secret_hash: str = Field(repr=False)
    scopes: list[str] = Field(default_factory=list)
    rate_limit: str | None = None
    created_by: PydanticObjectId | None = None
    created_at: datetime
    revoked_at: datetime | None = None

    class Settings:
        name = "api_keys"
        indexes = [IndexModel([("created_at", ASCENDING)], name="created_at")]


@dataclass(frozen=True, slots=True)
class ApiKeyPrincipal:
    id: str
    name: str
    scopes: tuple[str, ...]
    rate_limit: Rule | None


# Told of each key a signed-in user creates (their id, the key), so they hear of it.
CreatedHook = Callable[[PydanticObjectId, "ApiKey"], Awaitable[None]]


class ApiKeyService:
    def __init__(
        self,
        clock: Clock,
        audit: AuditService,
        on_created: CreatedHook | None = None,
        *,
        max_rate_limit: str = DEFAULT_MAX_RATE_LIMIT,
    ) -> None:
        self._clock = clock
        self._audit = audit
        # A bad setting stops the start (ValueError), not the first key.
        self._max_rate_limit = Rule.parse("api-key-max", max_rate_limit)
        self._on_created = on_created

    async def create(
        self,
        *,
        actor: Actor,
        name: str,
        scopes: list[str],
        rate_limit: str | None,
        created_by: PydanticObjectId | None,
        grantable: Collection[str] | None = None,
    ) -> tuple[ApiKey, str]:
        """Returns the record and the full key, which is shown this once only.

        ``grantable`` is what the creator may hand on (their own permissions): a key
        never carries a scope its creator lacks, so it cannot become a way up.

        Raises: ValidationError.
        """
        errors: list[FieldError] = []
        clean_name = name.strip()
        if not 1 <= len(clean_name) <= 100:
            errors.append(FieldError("name", "Use 1 to 100 characters.", "INVALID"))
        if len(scopes) > 50 or any(not _SCOPE_PATTERN.fullmatch(s) for s in scopes):
            errors.append(FieldError("scopes", "Scopes look like `users:read`.", "INVALID"))
        elif grantable is not None and not set(scopes) <= set(grantable):
            beyond = ", ".join(sorted(set(scopes) - set(grantable)))
            errors.append(
                FieldError(
                    "scopes", f"You cannot grant what you do not hold: {beyond}.", "FORBIDDEN"
                )
            )
        if rate_limit is not None:
            errors.extend(_rate_limit_errors(rate_limit, self._max_rate_limit))
        if errors:
            raise ValidationError(errors)
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        record = ApiKey(
            _id=key_id,
            name=clean_name,
            secret_hash=token_hash(secret),
            scopes=sorted(set(scopes)),
            rate_limit=rate_limit,
            created_by=created_by,
            created_at=self._clock.now(),
        )
        await record.insert()
        await self._audit.record(
            "apikey.created",
            AuditAction.CREATE,
            actor=actor,
            target_id=key_id,
            target_type="api_key",
            after={"name": record.name, "scopes": ",".join(record.scopes), "rate": rate_limit},
        )
        if created_by is not None and self._on_created is not None:
            await self._on_created(created_by, record)
        return record, f"ghk_{key_id}_{secret}"

    async def revoke(self, key_id: str, actor: Actor) -> bool:
        key = await ApiKey.find_one(ApiKey.id == key_id)
        if key is None or key.revoked_at is not None:
            return False
        await ApiKey.find_one(ApiKey.id == key_id).update(
            {"$set": {"revoked_at": self._clock.now()}}
        )
        await self._audit.record(
            "apikey.revoked",
            AuditAction.DELETE,
            actor=actor,
            target_id=key_id,
            target_type="api_key",
        )
        return True

    async def list(self) -> list[ApiKey]:
        return await ApiKey.find_all().sort("created_at").to_list()

    async def authenticate(self, raw: str) -> ApiKeyPrincipal | None:
        match = _KEY_PATTERN.fullmatch(raw.strip())
        if match is None:
            return None
        key_id, secret = match.groups()
        key = await ApiKey.find_one(ApiKey.id == key_id)
        if key is None or key.revoked_at is not None:
            return None
        if not hmac.compare_digest(key.secret_hash, token_hash(secret)):
            return None
        return ApiKeyPrincipal(
            id=key.id,
            name=key.name,
            scopes=tuple(key.scopes),
            rate_limit=Rule.parse("api-key", key.rate_limit) if key.rate_limit else None,
        )
