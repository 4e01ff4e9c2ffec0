"""When sessions were last active and last proved who they are: the reads and writes
of a session's timeline that are not its refresh rotation."""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId

from domain.core.by_id import update_by_id
from domain.sessions.documents import RefreshFamily, Session
from domain.sessions.family_cache import RefreshFamilies
from domain.sessions.issued import utc


async def live_sessions(
    user_id: PydanticObjectId, now: datetime, families: RefreshFamilies
) -> list[Session]:
    """Live sessions, most recently seen first. A refresh is activity too; a rotation
    moves its family's Redis copy (rotation_records.py), so it is read from there."""
    sessions = await Session.find(
        Session.user_id == user_id,
        Session.revoked_at == None,  # noqa: E711
        Session.expires_at > now,
    ).to_list()
    rotated = await families.rotated_at([s.id for s in sessions if s.id is not None])
    for session in sessions:
        at = rotated.get(str(session.id))
        if at is not None and at > utc(session.last_seen_at):
            session.last_seen_at = at
    return sorted(sessions, key=lambda s: utc(s.last_seen_at), reverse=True)


async def record_authentication(session_id: PydanticObjectId, at: datetime) -> bool:
    """A re-authentication of a live session: its auth_time moves to ``at`` (on the
    session, and on its refresh family so refreshed access tokens carry it). False if
    the session has ended."""
    recorded = await update_by_id(
        Session.get_pymongo_collection(),
        session_id,
        {"$set": {"authenticated_at": at}},
        guard={"revoked_at": None},
    )
    if recorded:
        await update_by_id(
            RefreshFamily.get_pymongo_collection(), session_id, {"$set": {"auth_time": at}}
        )
    return recorded
