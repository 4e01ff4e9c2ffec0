"""A Gatehouse session as the provider's signed-in subject: its own ``amr`` (RFC 8176,
as the sign-in recorded it: ``fed`` for a provider, ``hwk`` for a passkey, ...) and its
``auth_time``. The built-in page's password path keeps ``OAuthProvider.signed_in``."""

from __future__ import annotations

from beanie import PydanticObjectId

from domain.oauth.store import Subject
from domain.sessions.documents import Session
from domain.sessions.issued import utc


async def session_subject(user_id: str, session_id: str) -> Subject | None:
    """None when the session is gone (it was just opened: only a race with a sign-out)."""
    session = await Session.find_one({"_id": PydanticObjectId(session_id)})
    if session is None:
        return None
    auth_time = int(utc(session.auth_time).timestamp())
    return Subject(user_id, session_id, auth_time, list(session.methods))
