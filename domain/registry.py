"""What the composition root (domain/services.py ``build_services``) returns: every
service the API (through the GraphQL context) and the workers call."""

from __future__ import annotations

from dataclasses import dataclass

from domain.admin.users import AdminUsers
from domain.analytics.service import AnalyticsService
from domain.apikeys.service import ApiKeyService
from domain.audit.service import AuditService
from domain.breached.checker import BreachedPasswords
from domain.email.delivery import EmailDelivery
from domain.email.outbox import Outbox
from domain.events.bus import EventBus
from domain.identity.cache import CachedUsers
from domain.identity.credentials import CredentialsService
from domain.identity.login import LoginService
from domain.identity.profile import ProfileService
from domain.identity.reauthentication import Reauthentication
from domain.identity.registration import RegistrationService
from domain.identity.two_factor import TwoFactorService
from domain.impersonation.service import ImpersonationService
from domain.lockout.service import LockoutService
from domain.mfa.service import MfaService
from domain.mfa.trusted_devices import TrustedDevices
from domain.oauth.clients import OAuthClients
from domain.oauth.consents import AuthorizedApps
from domain.oauth.device_grant import DeviceGrants
from domain.oauth.headless import HeadlessChallenges
from domain.oauth.logout import EndSession
from domain.oauth.page_passkey import PagePasskeys
from domain.oauth.page_social import SocialPageSignIns
from domain.oauth.provider import OAuthProvider
from domain.passkeys.management import PasskeyManagement
from domain.passkeys.reauthentication import PasskeyReauthentication
from domain.passkeys.registration import PasskeyRegistration
from domain.passkeys.sign_in import PasskeySignIn
from domain.passwordless.email_sign_in import EmailSignIn
from domain.persisted_queries.store import PersistedQueryStore
from domain.privacy.wiring import Privacy
from domain.ratelimit.policy import RateLimitService
from domain.sessions.admission import RequestAdmission
from domain.sessions.principal import Authenticator
from domain.sessions.revocation import SessionRevocations
from domain.sessions.service import SessionService
from domain.sessions.watch import SessionWatch
from domain.social.identities import SocialIdentities
from domain.social.linking import LinkRequests
from domain.social.sign_in import SocialSignIn
from domain.social.tokens import ProviderTokenVault
from domain.tokens.access import AccessTokenService
from domain.webhooks.wiring import Webhooks


@dataclass(frozen=True, slots=True)
class Services:
    """What the API (through the GraphQL context) and the workers call."""

    access_tokens: AccessTokenService
    authenticator: Authenticator
    admission: RequestAdmission
    revocations: SessionRevocations
    session_watch: SessionWatch
    sessions: SessionService
    registration: RegistrationService
    login: LoginService
    credentials: CredentialsService
    profile: ProfileService
    two_factor: TwoFactorService
    lockout: LockoutService
    rate_limits: RateLimitService
    api_keys: ApiKeyService
    reauthentication: Reauthentication
    audit: AuditService
    admin_users: AdminUsers
    users: CachedUsers
    analytics: AnalyticsService
    mfa: MfaService
    bus: EventBus
    outbox: Outbox
    email_delivery: EmailDelivery
    webhooks: Webhooks
    persisted_queries: PersistedQueryStore
    passkey_reauthentication: PasskeyReauthentication
    trusted_devices: TrustedDevices
    email_sign_in: EmailSignIn
    passkey_registration: PasskeyRegistration
    passkey_sign_in: PasskeySignIn
    passkeys: PasskeyManagement
    social_sign_in: SocialSignIn
    social_links: LinkRequests
    social_identities: SocialIdentities
    social_tokens: ProviderTokenVault
    oauth_clients: OAuthClients
    oauth: OAuthProvider
    oauth_logout: EndSession
    oauth_devices: DeviceGrants
    oauth_headless: HeadlessChallenges
    oauth_authorized_apps: AuthorizedApps
    # The built-in sign-in page's social buttons (domain/oauth/page_social.py).
    oauth_social_page: SocialPageSignIns
    # The built-in sign-in page's passkey button (domain/oauth/page_passkey.py).
    oauth_passkey_page: PagePasskeys
    impersonation: ImpersonationService
    privacy: Privacy
    # Breached passwords (domain/breached/): the lists loaded at start-up, the range API.
    breached_passwords: BreachedPasswords
