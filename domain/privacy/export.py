"""Self-service data export (GDPR art. 15 and 20): a JSON archive of everything the
personal data map (domain/privacy/data_map.py) lists for the person, built by a job,
fetched once through an emailed, expiring link.

The request only enqueues; the worker builds the file under the export directory with
a random name (its expiry first, so the sweep needs no database), issues a single-use
link token (an action token: only its digest is stored, its use decided once by a
claim) and emails the link to the account's own address, whoever asked. The download
opens the file, unlinks it, and streams from the open handle: the file is gone from
the directory before its first byte is sent, and the sweep removes what nobody fetched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import orjson
from beanie import PydanticObjectId
from loguru import logger

from domain.audit.documents import AuditAction
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.claims import claim_once
from domain.core.clock import Clock
from domain.core.errors import DependencyUnavailableError, NotFoundError
from domain.core.settings import Settings
from domain.email.outbox import Outbox
from domain.identity import repository as user_repository
from domain.identity.action_tokens import (
    ActionPurpose,
    ActionToken,
    ActionTokens,
    InvalidActionTokenError,
)
from domain.identity.documents import UserStatus
from domain.privacy.data_map import PERSONAL_DATA, Subject
from domain.privacy.errors import ExportUnavailableError
from domain.privacy.subjects import PersonKeys

FORMAT = "gatehouse.personal-data/1"
# A job id and the user to a queued job (Dramatiq's send in production).
EnqueueExport = Callable[[str, str], None]


def export_directory(settings: Settings) -> Path:
    return settings.export_dir or settings.var_dir / "exports"


def _plain(value: Any) -> Any:
    return str(value)  # ObjectIds and anything else orjson does not know


async def collect(subject: Subject) -> dict[str, list[dict[str, Any]]]:
    """The person's records, per collection, limited to each entry's export fields."""
    records: dict[str, list[dict[str, Any]]] = {}
    for entry in PERSONAL_DATA:
        if entry.find is None or not entry.export:
            continue
        cursor = entry.model.get_pymongo_collection().find(entry.find(subject))
        rows = []
        async for stored in cursor:
            doc = entry.shown(subject, stored) if entry.shown is not None else stored
            rows.append({f: doc[f] for f in entry.export if f in doc})
        records[entry.collection] = rows
    return records


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(body)


def _open_and_unlink(path: Path) -> IO[bytes] | None:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return handle


class DataExports:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        tokens: ActionTokens,
        outbox: Outbox,
        audit: AuditService,
        keys: PersonKeys,
        enqueue: EnqueueExport,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._tokens = tokens
        self._outbox = outbox
        self._audit = audit
        self._keys = keys
        self._enqueue = enqueue
        self._ttl = timedelta(seconds=settings.export_link_ttl_seconds)

    async def request(self, user_id: str, actor: Actor) -> None:
        """Queue an export of ``user_id``'s data (the owner's, or an administrator's
        request for them: ``actor`` says which); the link goes to the account's address.

        Raises: NotFoundError (no such account, or deleted), DependencyUnavailableError
        (the queue is unreachable: nothing was queued, ask again).
        """
        user = await user_repository.get(user_id)
        if user is None or user.status is UserStatus.DELETED:
            raise NotFoundError("No such user.")
        job_id = secrets.token_hex(16)
        try:
            await asyncio.to_thread(self._enqueue, job_id, str(user.id))
        except Exception as exc:  # the broker's errors are its own; the client retries
            logger.bind(user_id=str(user.id)).warning("export not enqueued: {}", exc)
            raise DependencyUnavailableError from exc
        by_owner = actor.user_id == str(user.id)
        await self._audit.record(
            "privacy.export_requested",
            AuditAction.SECURITY,
            actor=actor,
            target_id=str(user.id),
            details={"by": "self" if by_owner else "admin", "job": job_id},
        )

    async def build(self, job_id: str, user_id: str) -> str | None:
        """The job: write the archive, email its link. Runs once per job id (the queue
        delivers at least once); returns the file's name, None when nothing was built."""
        now = self._clock.now()
        if not await claim_once(f"export:{job_id}", now=now, expires_at=now + self._ttl):
            return None
        user = await user_repository.get(user_id)
        if user is None or user.id is None or user.status is UserStatus.DELETED:
            return None
        archive = {
            "format": FORMAT,
            "generated_at": now,
            "user_id": str(user.id),
            "records": await collect(self._keys.subject(user)),
        }
        body = orjson.dumps(archive, default=_plain, option=orjson.OPT_INDENT_2)
        expires_at = now + self._ttl
        name = f"{int(expires_at.timestamp())}-{secrets.token_hex(16)}.json"
        await asyncio.to_thread(_write, export_directory(self._settings) / name, body)
        raw = await self._tokens.issue(
            ActionPurpose.DOWNLOAD_EXPORT, user.id, self._ttl, fingerprint=name
        )
        link = f"{self._settings.public_url.rstrip('/')}{self._settings.export_download_path}"
        await self._outbox.send(
            "data_export_ready",
            user.email,
            user_id=user.id,
            name=user.first_name,
            link=f"{link}?token={raw}",
            hours=int(self._ttl.total_seconds() // 3600),
        )
        await self._audit.record(
            "privacy.export_ready",
            AuditAction.SECURITY,
            actor=Actor.system(),
            target_id=str(user.id),
            details={"job": job_id, "bytes": len(body)},
        )
        return name

    async def open_download(self, raw: object, actor: Actor) -> IO[bytes]:
        """The archive, once: the link is used up and the file unlinked before this
        returns (the handle still reads it). Two racing downloads: one gets it.

        Raises: ExportUnavailableError (unknown, used or expired link; file gone).
        """
        try:
            token = await self._tokens.consume(ActionPurpose.DOWNLOAD_EXPORT, raw)
        except InvalidActionTokenError as exc:
            raise ExportUnavailableError from exc
        name = token.fingerprint or ""
        directory = export_directory(self._settings)
        path = directory / Path(name).name
        handle = await asyncio.to_thread(_open_and_unlink, path) if name else None
        if handle is None:
            raise ExportUnavailableError
        await self._audit.record(
            "privacy.export_downloaded",
            AuditAction.SECURITY,
            actor=actor,
            target_id=str(token.user_id),
        )
        return handle

    async def discard_for(self, user_id: PydanticObjectId) -> int:
        """Remove the user's archives still waiting (erasure; before their tokens go)."""
        pending = await ActionToken.find(
            ActionToken.user_id == user_id, ActionToken.purpose == ActionPurpose.DOWNLOAD_EXPORT
        ).to_list()
        directory = export_directory(self._settings)
        for token in pending:
            if token.fingerprint:
                await asyncio.to_thread(_remove, directory / Path(token.fingerprint).name)
        return len(pending)

    async def purge_expired(self) -> int:
        """Remove archives whose link has expired (the name starts with the expiry)."""
        now = int(self._clock.now().timestamp())
        return await asyncio.to_thread(_purge, export_directory(self._settings), now)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _purge(directory: Path, now: int) -> int:
    if not directory.is_dir():
        return 0
    removed = 0
    for path in directory.glob("*.json"):
        expiry, _, _ = path.name.partition("-")
        if expiry.isdigit() and int(expiry) <= now:
            _remove(path)
            removed += 1
    return removed
