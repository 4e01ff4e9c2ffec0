"""Rate-limit guards that resolvers call before the attempt they protect.

Each call counts one attempt, so 100 aliased ``login`` fields in one document (or a
batch of operations) are 100 attempts, not one request.
"""

from __future__ import annotations

from domain.core.errors import RateLimitedError
from domain.identity.validation import validate_email
from domain.ratelimit.limiter import Decision
from domain.ratelimit.policy import Operation
from schema.context import Context, Info


def email_key(raw: str) -> str:
    """One limit bucket per mailbox: the normalised address (case, Unicode forms)."""
    normalized, _ = validate_email(raw)
    return normalized or raw.strip().lower()


def set_rate_headers(context: Context, decision: Decision | None) -> None:
    if decision is None:
        return
    headers = context.response.headers
    headers["RateLimit-Limit"] = str(decision.limit)
    headers["RateLimit-Remaining"] = str(decision.remaining)
    headers["RateLimit-Reset"] = str(decision.reset_seconds)


async def limit(info: Info, operation: Operation, account: str | None = None) -> None:
    """Raises RateLimitedError (a union member for mutations) over the limit."""
    ctx = info.context
    try:
        decision = await ctx.services.rate_limits.check(
            operation,
            ip=ctx.meta.ip,
            account=account,
            api_key_id=ctx.api_key.id if ctx.api_key else None,
            api_key_limit=ctx.api_key.rate_limit if ctx.api_key else None,
        )
    except RateLimitedError as error:
        ctx.response.headers["Retry-After"] = str(error.retry_after_seconds)
        raise
    set_rate_headers(ctx, decision)
