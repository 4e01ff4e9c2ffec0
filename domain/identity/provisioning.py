"""Creating accounts directly (the first admin, admin-created users): same policy as sign-up."""

from __future__ import annotations

from pymongo.errors import PyMongoError

from domain.core.clock import Clock
from domain.core.duplicates import unique_violation_as
from domain.core.errors import FieldError, ValidationError
from domain.core.roles import Role
from domain.core.settings import Settings
from domain.identity import email_lookup, repository
from domain.identity.documents import User
from domain.identity.passwords import PasswordHasher
from domain.identity.validation import check_password_policy, validate_email, validate_name


async def create_user(
    *,
    settings: Settings,
    clock: Clock,
    hasher: PasswordHasher,
    email: object,
    password: object,
    first_name: object,
    last_name: object,
    role: Role,
    email_verified: bool,
) -> User:
    """Raises: ValidationError (including an email that is already taken)."""
    normalized, errors = validate_email(email)
    first, first_errors = validate_name(first_name, "firstName")
    last, last_errors = validate_name(last_name, "lastName")
    errors += first_errors + last_errors
    context = [v for v in (normalized, first, last) if v]
    errors += check_password_policy(password, settings=settings, user_inputs=context)
    if normalized and await repository.find_by_email(normalized) is not None:
        errors.append(FieldError("email", "An account with this email exists.", "EMAIL_TAKEN"))
    if errors:
        raise ValidationError(errors)
    assert normalized
    assert first
    assert last
    assert isinstance(password, str)
    now = clock.now()
    user = User(
        email=normalized,
        first_name=first,
        last_name=last,
        role=role,
        email_verified=email_verified,
        email_verified_at=now if email_verified else None,
        password_hash=await hasher.hash(password),
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    taken = FieldError("email", "An account with this email exists.", "EMAIL_TAKEN")
    with unique_violation_as(lambda: ValidationError([taken])):
        await user.insert()
    assert user.id is not None
    try:
        await email_lookup.point(normalized, user.id)
    except PyMongoError:
        # An account its email does not lead to could never sign in.
        await repository.delete(user)
        raise
    return user
