"""The ways an account can sign in (``me { signInMethods }``).

A password (an account whose address an emailed code verified has none until it sets one
through a reset), a passkey, a linked provider identity (social sign-in; which providers:
``me { identities }``), a code emailed to the address (where the deployment offers it),
and TOTP, which is a second factor after any of them. Worked out for a page of accounts
at once (one query per kind), so a list of users asks the database four times, not four
times per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from beanie import PydanticObjectId

from domain.identity import repository as users
from domain.mfa.repository import users_with_two_factor
from domain.passkeys import repository as passkeys
from domain.social.identities import accounts_with_identities


class SignInMethod(StrEnum):
    PASSWORD = "password"
    PASSKEY = "passkey"
    SOCIAL = "social"
    EMAIL_CODE = "email_code"
    TOTP = "totp"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What an account holds to sign in with."""

    password: bool
    passkey: bool
    totp: bool
    social: bool = False


def sign_in_methods(held: Credentials, *, email_sign_in: bool) -> list[SignInMethod]:
    found = [SignInMethod.PASSWORD] if held.password else []
    if held.passkey:
        found.append(SignInMethod.PASSKEY)
    if held.social:
        found.append(SignInMethod.SOCIAL)
    if email_sign_in:
        found.append(SignInMethod.EMAIL_CODE)
    if held.totp:
        found.append(SignInMethod.TOTP)
    return found


async def credentials_of(user_ids: list[str]) -> list[Credentials]:
    """What each account holds, in the order asked (an unknown id holds nothing)."""
    oids = [PydanticObjectId(u) for u in dict.fromkeys(user_ids) if PydanticObjectId.is_valid(u)]
    if not oids:
        return [Credentials(password=False, passkey=False, totp=False) for _ in user_ids]
    without = await users.without_password(oids)
    with_passkey = await passkeys.owners_among(oids)
    with_totp = await users_with_two_factor(str(o) for o in oids)
    with_identity = await accounts_with_identities(oids)
    answers: list[Credentials] = []
    for user_id in user_ids:
        valid = PydanticObjectId.is_valid(user_id)
        oid = PydanticObjectId(user_id) if valid else None
        answers.append(
            Credentials(
                password=oid is not None and oid not in without,
                passkey=oid in with_passkey,
                totp=user_id in with_totp,
                social=oid in with_identity,
            )
        )
    return answers
