"""Output types built field by field from documents: a hash can never leak by accident."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from domain.core.roles import Role
from domain.identity.documents import User
from domain.identity.reauthentication import Proof
from domain.passwordless.methods import SignInMethod, sign_in_methods
from domain.sessions.documents import Session
from domain.sessions.service import IssuedTokens
from schema.context import Info
from schema.social.types import SocialIdentityType, identities_of_viewer

RoleEnum = strawberry.enum(Role, name="Role", description="What a user may do.")
SignInMethodEnum = strawberry.enum(
    SignInMethod,
    name="SignInMethod",
    description="A way into an account: a first step (`PASSWORD`, `PASSKEY`, `SOCIAL` for "
    "a linked provider identity, `EMAIL_CODE`) or the second factor (`TOTP`).",
)


@strawberry.enum(description="The lifecycle state of an account.")
class UserStatusEnum(Enum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    DELETED = "deleted"


async def _two_factor_enabled(root: UserType, info: Info) -> bool:
    # Through the request's loader: a page of users is one lookup, not one per row.
    return await info.context.loaders.two_factor_enabled.load(str(root.id))


async def _sign_in_methods(root: UserType, info: Info) -> list[SignInMethod]:
    # Through the request's loader, like twoFactorEnabled: one lookup of each kind a page.
    held = await info.context.loaders.credentials.load(str(root.id))
    return sign_in_methods(held, email_sign_in=info.context.settings.email_sign_in_enabled)


@strawberry.type(name="User")
class UserType:
    id: strawberry.ID
    email: str
    first_name: str
    last_name: str
    role: RoleEnum  # type: ignore[valid-type]
    status: UserStatusEnum
    email_verified: bool
    email_verified_at: datetime | None
    locked: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    password_changed_at: datetime
    password_breached: bool = strawberry.field(
        default=False,
        description="A sign-in found the password on a list of passwords exposed in data "
        "breaches: change it. Cleared by a new password.",
    )

    two_factor_enabled: bool = strawberry.field(
        resolver=_two_factor_enabled,
        description="Whether sign-in asks for a TOTP code.",
    )
    sign_in_methods: list[SignInMethodEnum] = strawberry.field(  # type: ignore[valid-type]
        resolver=_sign_in_methods,
        description="How this account can sign in: a password (absent once an emailed code "
        "verified an address registered by someone who had not proved it; `resetPassword` "
        "sets one), passkeys, a linked provider (`SOCIAL`; which ones: `identities`), an "
        "emailed code (where offered), and TOTP as second factor.",
    )
    identities: list[SocialIdentityType] | None = strawberry.field(
        resolver=identities_of_viewer,
        description="Your linked provider identities; null on another user "
        "(administrators: `userIdentities`).",
    )

    @classmethod
    def from_document(cls, user: User) -> UserType:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            role=user.role,
            status=UserStatusEnum(user.status.value),
            email_verified=user.email_verified,
            email_verified_at=user.email_verified_at,
            locked=user.locked_at is not None,
            created_at=user.created_at,
            updated_at=user.updated_at,
            last_login_at=user.last_login_at,
            password_changed_at=user.password_changed_at,
            password_breached=user.password_breached_at is not None,
        )


@strawberry.type(
    name="SessionImpersonation",
    description="An administrator's session as you (issue 21): who, why, and its mode.",
)
class SessionImpersonationType:
    administrator: str = strawberry.field(description="The administrator's name.")
    reason: str
    read_only: bool


@strawberry.type(name="Session", description="A signed-in device.")
class SessionType:
    id: strawberry.ID
    device: str
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool = strawberry.field(description="True for the session making this request.")
    impersonation: SessionImpersonationType | None = strawberry.field(
        default=None,
        description="Set when an administrator opened this session to act as you: who, "
        "why, and whether it can change anything. End it like any other session.",
    )

    @classmethod
    def from_document(cls, session: Session, *, current_session_id: str | None) -> SessionType:
        mark = session.impersonation
        return cls(
            id=strawberry.ID(str(session.id)),
            device=session.device,
            user_agent=session.user_agent,
            ip=session.ip,
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            expires_at=session.expires_at,
            current=str(session.id) == current_session_id,
            impersonation=SessionImpersonationType(
                administrator=mark.admin_name, reason=mark.reason, read_only=mark.read_only
            )
            if mark is not None
            else None,
        )


@strawberry.type(description="A new token pair: send the access token as `Authorization: Bearer`.")
class AuthPayload:
    access_token: str
    token_type: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    access_token_expires_at: datetime
    refresh_token: str = strawberry.field(
        description="Opaque and single-use: each refresh returns a new one."
    )
    refresh_token_expires_at: datetime
    session_id: strawberry.ID
    user: UserType
    device_token: str | None = strawberry.field(
        default=None,
        description="Set when `completeMfaLogin` was asked to `rememberDevice`: keep it on "
        "this device and send it as `deviceToken` when signing in, to skip the second factor "
        "until it expires (`myTrustedDevices`). Null otherwise.",
    )
    password_breached: bool = strawberry.field(
        default=False,
        description="The password of this sign-in appears in a list of passwords exposed in "
        "data breaches: ask the person to change it (`changePassword`). Also on "
        "`user.passwordBreached` until they do.",
    )

    @classmethod
    def build(
        cls, tokens: IssuedTokens, user: User, now: datetime, device_token: str | None = None
    ) -> AuthPayload:
        return cls(
            access_token=tokens.access_token,
            token_type="Bearer",
            expires_in=max(int((tokens.access_expires_at - now).total_seconds()), 0),
            access_token_expires_at=tokens.access_expires_at,
            refresh_token=tokens.refresh_token,
            refresh_token_expires_at=tokens.refresh_expires_at,
            session_id=strawberry.ID(tokens.session_id),
            user=UserType.from_document(user),
            device_token=device_token,
            password_breached=user.password_breached_at is not None,
        )


@strawberry.type(
    description="The first step was right; answer the second factor with `completeMfaLogin` "
    "(a code), or with a passkey (`beginPasskeyLogin(challengeToken:)`)."
)
class MfaRequired:
    challenge_token: str
    expires_at: datetime
    methods: list[str] = strawberry.field(
        description="`totp`, `backup_code`, and `passkey` when the account has one (unless "
        "the first step was a passkey)."
    )


@strawberry.type(description="Scan the QR code or type the secret into an authenticator app.")
class TotpEnrollment:
    secret: str
    otpauth_uri: str
    qr_code_svg_data_uri: str


@strawberry.type(description="Single-use backup codes. They are shown this once only.")
class BackupCodes:
    codes: list[str]


@strawberry.type
class TotpDisabled:
    message: str


@strawberry.type(
    description="The session authenticated now (`authTime`). Replace your access token with "
    "`accessToken`: it carries the new `auth_time`. Each lasting-control change accepts the "
    "proof for its own `maxAgeSeconds` (SECURITY.md); every one of them until `validUntil`."
)
class Reauthenticated:
    valid_until: datetime
    auth_time: datetime
    access_token: str
    token_type: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    access_token_expires_at: datetime

    @classmethod
    def build(cls, proof: Proof, now: datetime) -> Reauthenticated:
        return cls(
            valid_until=proof.valid_until,
            auth_time=proof.auth_time,
            access_token=proof.access_token,
            token_type="Bearer",
            expires_in=max(int((proof.access_expires_at - now).total_seconds()), 0),
            access_token_expires_at=proof.access_expires_at,
        )


@strawberry.type(description="Accepted. If the details can be used, an email is on its way.")
class RegistrationAccepted:
    message: str


@strawberry.type
class EmailVerified:
    user: UserType


@strawberry.type(description="Accepted; the same answer whether or not an account exists.")
class EmailRequestAccepted:
    message: str


@strawberry.type(description="One of your sessions has ended.")
class SessionRevokedEvent:
    session_id: str
    reason: str
    current: bool = strawberry.field(description="True when it is the session listening.")


@strawberry.type
class LoggedOut:
    sessions_ended: int


@strawberry.type
class SessionRevoked:
    id: strawberry.ID


@strawberry.type
class PasswordChanged:
    other_sessions_ended: int


@strawberry.type
class PasswordResetCompleted:
    message: str


@strawberry.type
class AccountUnlocked:
    message: str


@strawberry.type
class ProfileUpdated:
    user: UserType


@strawberry.type
class EmailChanged:
    user: UserType
