"""Types of sign-in with an emailed code or link."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(
    description="Accepted; the same answer whether or not the address has an account. If "
    "it has, a 6-digit code and a link are on their way: send either to "
    "`completeEmailSignIn` before `expiresAt`."
)
class EmailSignInRequested:
    message: str
    expires_at: datetime
