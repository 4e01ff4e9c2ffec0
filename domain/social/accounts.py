"""Creating an account for a new provider identity: no password (sign-in through the
provider, or a password set later by a reset), the email verified because the
provider verified it (prove.check_email lets nothing else through)."""

from __future__ import annotations

from pymongo.errors import PyMongoError

from domain.core.clock import Clock
from domain.core.duplicates import is_unique_violation
from domain.identity import email_lookup, repository
from domain.identity.documents import User
from domain.social.profile import ExternalIdentity


async def create_social_user(clock: Clock, identity: ExternalIdentity) -> User | None:
    """The new account, or None when the email was taken by another one meanwhile."""
    assert identity.email
    assert identity.email_verified
    now = clock.now()
    user = User(
        email=identity.email,
        first_name=identity.given_name,
        last_name=identity.family_name,
        email_verified=True,
        email_verified_at=now,
        password_hash="",
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    try:
        await user.insert()
    except PyMongoError as error:
        if is_unique_violation(error):
            return None
        raise
    assert user.id is not None
    try:
        await email_lookup.point(identity.email, user.id)
    except PyMongoError:
        await repository.delete(user)  # an account its email does not lead to is lost
        raise
    return user
