"""Which exceptions mean "a dependency is down" rather than "the code is wrong"."""

from __future__ import annotations

from pymongo.errors import ConnectionFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# ConnectionFailure covers ServerSelectionTimeoutError, AutoReconnect and NetworkTimeout:
# MongoDB could not be reached in the configured time. Redis reports the same as these.
_OUTAGES: tuple[type[BaseException], ...] = (
    ConnectionFailure,
    RedisConnectionError,
    RedisTimeoutError,
)


def is_dependency_outage(error: BaseException | None) -> bool:
    """True when ``error`` says MongoDB or Redis was unreachable or timed out."""
    return isinstance(error, _OUTAGES)
