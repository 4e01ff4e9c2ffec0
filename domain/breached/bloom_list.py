"""A list of breached passwords as a Bloom filter of their SHA-1 digests, in a file.

Every entry is the 20-byte SHA-1 digest of a password's UTF-8 bytes: a plain password
is hashed, a line of 40 hex digits (optionally ``:COUNT``, the Have I Been Pwned
format) is taken as the digest itself. The filter's hash function reads the first 16
bytes of the digest as an integer: SHA-1 output is already uniform, so nothing is hashed
twice, and the same function in every process makes a saved filter load anywhere
(rbloom's default, Python's ``hash``, is salted per process).

File format: ``MAGIC``, the entry count (8 bytes, big-endian), the SHA-256 of the rest,
then rbloom's bytes. The checksum is checked before rbloom reads them: rbloom 1.5
panics (an exception no ``except Exception`` catches) on a truncated buffer.
A Bloom filter answers "maybe present" for an entry that was never added with the
false-positive rate it was built for, and never "absent" for one that was.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rbloom import Bloom

MAGIC = b"GHBLOOM1"
_CHECKSUM = 32
_HEADER = len(MAGIC) + 8 + _CHECKSUM
# Lines longer than this are not passwords anyone types: skipped, so a stray binary
# file costs time linear in its size and no more.
MAX_LINE_BYTES = 1024
DEFAULT_FALSE_POSITIVE_RATE = 1e-6
# A rate of 1e-12 needs 40 hashes; no useful filter has more than this.
MAX_HASHES = 64

LineFormat = Literal["auto", "sha1", "plain"]


class BreachedListError(Exception):
    """A filter file that is missing, truncated or not one of ours."""


def digest_key(digest: bytes) -> int:
    """rbloom's hash of an entry: the digest's first 16 bytes, a signed 128-bit int."""
    return int.from_bytes(digest[:16], "big", signed=True)


def password_digest(password: str) -> bytes:
    return hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).digest()


def line_digest(line: bytes, line_format: LineFormat = "auto") -> bytes | None:
    """The digest one input line stands for, or None for a blank, comment or bad line.

    ``auto``: 40 hex digits (with an optional ``:COUNT``) are a SHA-1, anything else a
    plain password. ``sha1``: only hashes are read. ``plain``: every line is a password
    (for a list of passwords that happen to be 40 hex digits).
    """
    line = line.rstrip(b"\r\n")
    if not line or len(line) > MAX_LINE_BYTES:
        return None
    if line_format != "plain":
        digest = _hibp_digest(line.strip())
        if digest is not None:
            return digest
        if line_format == "sha1" or line.startswith(b"#"):
            return None
    return hashlib.sha1(line, usedforsecurity=False).digest()


def _hibp_digest(line: bytes) -> bytes | None:
    """The digest of a ``HASH`` or ``HASH:COUNT`` line, else None. Without a regex: this
    runs once per line of lists of a billion lines (half the build time was the regex)."""
    if len(line) < 40 or (len(line) > 40 and (line[40:41] != b":" or not line[41:].isdigit())):
        return None
    try:
        return binascii.unhexlify(line[:40])
    except binascii.Error:
        return None


@dataclass(frozen=True, slots=True)
class BreachedList:
    """A loaded filter: ``password in breached_list``."""

    bloom: Bloom
    entries: int
    source: str

    def __contains__(self, password: object) -> bool:
        return isinstance(password, str) and password_digest(password) in self.bloom

    def has_digest(self, digest: bytes) -> bool:
        return digest in self.bloom

    @property
    def size_bytes(self) -> int:
        return int(self.bloom.size_in_bits) // 8


def build(
    digests: Iterable[bytes],
    expected: int,
    *,
    false_positive_rate: float = DEFAULT_FALSE_POSITIVE_RATE,
    source: str = "",
) -> BreachedList:
    """A filter of ``digests`` sized for ``expected`` entries (at least one)."""
    bloom = Bloom(max(expected, 1), false_positive_rate, digest_key)
    counted = _Counted(digests)
    bloom.update(counted)
    return BreachedList(bloom, counted.count, source)


def build_from_file(
    path: Path,
    *,
    false_positive_rate: float = DEFAULT_FALSE_POSITIVE_RATE,
    line_format: LineFormat = "auto",
) -> BreachedList:
    """Compile a list file (one password or SHA-1 a line): two streaming passes, the
    first counting lines to size the filter, so memory is the filter's and no more."""
    with path.open("rb") as lines:
        expected = sum(1 for _ in lines)
    with path.open("rb") as lines:
        digests = (d for d in (line_digest(line, line_format) for line in lines) if d)
        return build(digests, expected, false_positive_rate=false_positive_rate, source=str(path))


def to_bytes(breached: BreachedList) -> bytes:
    body = breached.bloom.save_bytes()
    return MAGIC + breached.entries.to_bytes(8, "big") + hashlib.sha256(body).digest() + body


def from_bytes(data: bytes, source: str = "") -> BreachedList:
    """Raises: BreachedListError for anything that is not a filter this module wrote."""
    # rbloom's own bytes: its hash count (8 bytes, little-endian), then the bit array.
    if len(data) < _HEADER + 9 or not data.startswith(MAGIC):
        raise BreachedListError(f"{source or 'data'} is not a breached-password filter")
    entries = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 8], "big")
    body = memoryview(data)[_HEADER:]
    if hashlib.sha256(body).digest() != data[_HEADER - _CHECKSUM : _HEADER]:
        raise BreachedListError(f"{source or 'data'} is a damaged filter (checksum)")
    # Each lookup loops once per hash: a count no sizing produces would stall every one.
    if not 1 <= int.from_bytes(body[:8], "little") <= MAX_HASHES:
        raise BreachedListError(f"{source or 'data'} has an impossible hash count")
    return BreachedList(Bloom.load_bytes(bytes(body), digest_key), entries, source)


def save(breached: BreachedList, path: Path) -> None:
    """Write through a temporary file, so a running server never reads half a filter."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(to_bytes(breached))
    partial.replace(path)


def load(path: Path) -> BreachedList:
    """Raises: BreachedListError (missing, unreadable or not a filter)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BreachedListError(f"cannot read the breached-password filter {path}: {exc}") from exc
    return from_bytes(data, str(path))


class _Counted:
    """Passes digests through, counting them (the entry count kept in the file)."""

    def __init__(self, digests: Iterable[bytes]) -> None:
        self._digests = digests
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        for digest in self._digests:
            self.count += 1
            yield digest
