"""Every Beanie document the application stores; the lifespan initialises these."""

from __future__ import annotations

from beanie import Document

from domain.apikeys.service import ApiKey
from domain.audit.documents import AuditEvent
from domain.core.claims import Claim
from domain.email.outbox import EmailMessage
from domain.identity.action_tokens import ActionToken
from domain.identity.documents import User
from domain.identity.identifiers import LoginIdentifier
from domain.impersonation.documents import ImpersonationRecord
from domain.mfa.documents import BackupCode, TotpCredential, TrustedDevice
from domain.oauth.documents import OAuthClient, OAuthConsent
from domain.passkeys.documents import Passkey
from domain.passkeys.owners import PasskeyOwner
from domain.privacy.documents import EmailTombstone, PendingErasure
from domain.sessions.documents import RefreshFamily, RefreshRotation, RefreshToken, Session
from domain.social.documents import SocialIdentity
from domain.social.owners import SocialIdentityOwner
from domain.webhooks.documents import WebhookDelivery, WebhookEndpoint, WebhookEvent

DOCUMENT_MODELS: list[type[Document]] = [
    User,
    LoginIdentifier,
    Session,
    RefreshFamily,
    RefreshRotation,
    RefreshToken,
    ActionToken,
    Claim,
    ApiKey,
    AuditEvent,
    TotpCredential,
    BackupCode,
    TrustedDevice,
    Passkey,
    PasskeyOwner,
    SocialIdentityOwner,
    SocialIdentity,
    OAuthClient,
    OAuthConsent,
    EmailMessage,
    WebhookEndpoint,
    WebhookEvent,
    WebhookDelivery,
    ImpersonationRecord,
    PendingErasure,
    EmailTombstone,
]
