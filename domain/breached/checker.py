"""Is this password known to be breached? The service every password path asks.

The offline lists answer first (a Bloom filter lookup, microseconds, nothing leaves
the server); only a password they do not know goes to the k-anonymity range API, and
only when one is configured. A verdict is ``BREACHED``, ``NOT_FOUND`` or ``UNKNOWN``
(the range API could not answer): what an unknown means is the caller's policy, new
passwords per ``breached_password_range_fail_closed``, sign-in never held up by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from loguru import logger

from domain.breached.bloom_list import BreachedList, password_digest
from domain.breached.range_check import RangeCheck, RangeUnavailableError
from domain.core.errors import FieldError

BREACHED_CODE = "BREACHED"
UNAVAILABLE_CODE = "BREACH_CHECK_UNAVAILABLE"


class Verdict(StrEnum):
    BREACHED = "breached"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"


class BreachedPasswords:
    def __init__(
        self,
        lists: Sequence[BreachedList],
        *,
        range_check: RangeCheck | None = None,
        fail_closed: bool = False,
    ) -> None:
        self._lists = tuple(lists)
        self._range = range_check
        self._fail_closed = fail_closed

    @property
    def lists(self) -> tuple[BreachedList, ...]:
        return self._lists

    async def verdict(self, password: str) -> Verdict:
        digest = password_digest(password)
        if any(listed.has_digest(digest) for listed in self._lists):
            return Verdict.BREACHED
        if self._range is None:
            return Verdict.NOT_FOUND
        try:
            listed = await self._range.is_listed(digest.hex())
        except RangeUnavailableError as exc:
            logger.bind(error=str(exc)).warning("breached-password range check unavailable")
            return Verdict.UNKNOWN
        return Verdict.BREACHED if listed else Verdict.NOT_FOUND

    async def new_password_problems(self, password: object, field: str) -> list[FieldError]:
        """The problem with choosing ``password`` (empty when it may be used). Not text or
        empty: nothing here (the password policy reports it)."""
        if not isinstance(password, str) or not password:
            return []
        verdict = await self.verdict(password)
        if verdict is Verdict.BREACHED:
            return [
                FieldError(
                    field,
                    "This password appears in a list of passwords exposed in data breaches, "
                    "so attackers try it early. Choose another.",
                    BREACHED_CODE,
                )
            ]
        if verdict is Verdict.UNKNOWN and self._fail_closed:
            return [
                FieldError(
                    field,
                    "We could not check this password against known breaches just now. "
                    "Try again in a moment.",
                    UNAVAILABLE_CODE,
                )
            ]
        return []

    async def aclose(self) -> None:
        if self._range is not None:
            await self._range.aclose()
