"""Mutations of sign-in with an emailed code or link, with their result unions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import passwordless
from schema.identity.types import AuthPayload, MfaRequired
from schema.passwordless.types import EmailSignInRequested
from schema.user_errors import (
    AccountDisabled,
    AccountLocked,
    EmailSignInDisabled,
    InvalidEmailCode,
    InvalidToken,
    RateLimited,
    ValidationFailed,
)

RequestEmailSignInResult = Annotated[
    EmailSignInRequested | ValidationFailed | EmailSignInDisabled | RateLimited,
    strawberry.union("RequestEmailSignInResult"),
]
CompleteEmailSignInResult = Annotated[
    AuthPayload
    | MfaRequired
    | InvalidEmailCode
    | InvalidToken
    | AccountLocked
    | AccountDisabled
    | EmailSignInDisabled
    | ValidationFailed
    | RateLimited,
    strawberry.union("CompleteEmailSignInResult"),
]


@strawberry.type
class PasswordlessMutation:
    request_email_sign_in = strawberry.mutation(
        resolver=passwordless.request_email_sign_in,
        graphql_type=RequestEmailSignInResult,
        description="Email a 6-digit code and a sign-in link to the address; the same "
        "answer for every address.",
    )
    complete_email_sign_in = strawberry.mutation(
        resolver=passwordless.complete_email_sign_in,
        graphql_type=CompleteEmailSignInResult,
        description="Sign in with the emailed `code` (with its `email`) or the link's "
        "`token`, on any device; single use. A two-factor account then answers "
        "`MfaRequired` (unless `deviceToken` is a device it trusts). The first use verifies "
        "the address.",
    )
