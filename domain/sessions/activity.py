"""When sessions were last active and last proved who they are: the reads and writes
of a session's timeline that are not its refresh rotation."""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId

from domain.core.by_id import update_by_id
from domain.sessions.documents import RefreshFamily, Session
from domain.sessions.issued import utc


async def live_sessions(user_id: PydanticObjectId, now: datetime) -> list[Session]:
    """Live sessions, most recently seen first. A refresh is activity too; it is
    recorded on the family (one write per rotation), so it is read from there."""
    sessions = await Session.find(
        Session.user_id == user_id,
        Session.revoked_at == None,  # noqa: E711
        Session.expires_at > now,
    ).to_list()
    families = await RefreshFamily.find({"_id": {"$in": [s.id for s in sessions]}}).to_list()
    rotated = {f.id: utc(f.rotated_at) for f in families if f.rotated_at is not None}
    for session in sessions:
        if session.id in rotated and rotated[session.id] > utc(session.last_seen_at):
            session.last_seen_at = rotated[session.id]
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
