"""Apollo's automatic persisted query protocol, without the transport.

A client first sends only ``extensions.persistedQuery = {version: 1, sha256Hash}``.
An unknown hash answers ``PERSISTED_QUERY_NOT_FOUND`` (message ``PersistedQueryNotFoundError``,
which Apollo's iOS and Kotlin clients match on); the client then sends the query text with
the hash, the server checks that the hash is the text's sha256 and remembers it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import ClassVar

from domain.core.errors import DomainError

SUPPORTED_VERSION = 1
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(DomainError):
    """``well_formed``: a valid GraphQL request the server cannot run as sent (the client
    retries), rather than a malformed request."""

    well_formed: ClassVar[bool] = False


class PersistedQueryNotFoundError(PersistedQueryError):
    code = "PERSISTED_QUERY_NOT_FOUND"
    default_message = "PersistedQueryNotFound"
    well_formed = True


class PersistedQueryNotSupportedError(PersistedQueryError):
    code = "PERSISTED_QUERY_NOT_SUPPORTED"
    default_message = "PersistedQueryNotSupported"
    well_formed = True


class PersistedQueryInvalidError(PersistedQueryError):
    code = "BAD_REQUEST"
    default_message = "extensions.persistedQuery must be {version: 1, sha256Hash: <64 hex>}."


def requested_hash(extensions: Mapping[str, object] | None) -> str | None:
    """The sha256 the request names, None when it is not a persisted-query request."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, Mapping):
        raise PersistedQueryInvalidError
    version = persisted.get("version")
    if version != SUPPORTED_VERSION or isinstance(version, bool):
        raise PersistedQueryInvalidError(
            f"Persisted query version {str(version)[:20]!r} is not supported; use 1."
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest.lower()):
        raise PersistedQueryInvalidError
    return digest.lower()


def query_hash(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def check_hash(query: str, digest: str) -> None:
    """A document is registered only under its own hash, so no hash can point at another."""
    if query_hash(query) != digest:
        raise PersistedQueryInvalidError(
            "extensions.persistedQuery.sha256Hash is not the sha256 of the query text."
        )
