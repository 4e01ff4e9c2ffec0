"""The composition root: every service, built once, with explicit constructor arguments.

The API lifespan (app.py), each worker event loop (workers/resources.py) and anything
else that runs domain code call ``build_services``; nothing else constructs a service,
so a reader follows a call from a resolver or an actor into the service by reading this
one function. Infrastructure clients (Redis, the password hasher's pool, the email
transport) are created by the caller, which also closes them. The queue is reached
through two plain functions, so domain/ does not import the workers.

Order matters only where one service is handed to another: the audit trail (with webhook
publishing listening) comes first, because most use cases record audit events; the
TOTP replay notice is built before the MFA service that calls it; trusted devices come
before the sessions and the MFA service, which end them (every session ended, a factor
changed); the passkeys' re-authentication before the re-authentication that asks it.
"""

from __future__ import annotations

import httpx
from beanie import PydanticObjectId
from redis.asyncio import Redis

from domain.admin.super_admins import SuperAdminChanges
from domain.admin.users import AdminUsers
from domain.analytics.service import AnalyticsService
from domain.apikeys.service import ApiKey, ApiKeyService
from domain.breached.loading import build_breached_passwords
from domain.core.actor import Actor
from domain.core.clock import Clock
from domain.core.sealing import sealing_box
from domain.core.settings import Settings
from domain.email.delivery import EmailDelivery
from domain.email.mailer import Mailer
from domain.email.notices import AccountNotices
from domain.email.outbox import Enqueue as EnqueueEmail
from domain.email.outbox import Outbox
from domain.email.receipts import SendReceipts
from domain.email.transport import EmailTransport
from domain.events.bus import EventBus
from domain.identity import repository as user_repository
from domain.identity.action_tokens import ActionTokens
from domain.identity.breached_sign_in import BreachedSignIn
from domain.identity.cache import CachedUsers
from domain.identity.credentials import CredentialsService
from domain.identity.login import LoginService
from domain.identity.passwords import PasswordHasher
from domain.identity.profile import ProfileService
from domain.identity.quiet_mail import QuietMail
from domain.identity.reauthentication import Reauthentication
from domain.identity.registration import RegistrationService
from domain.identity.replay_notice import TotpReplayNotice
from domain.identity.two_factor import TwoFactorService
from domain.identity.ways_in import Credential, WaysIn
from domain.impersonation.service import ImpersonationService
from domain.location.notices import SignInLocations
from domain.lockout.counter import AttemptCounter
from domain.lockout.service import LockoutService
from domain.mfa.challenges import MfaChallenges
from domain.mfa.service import FactorChange, MfaService
from domain.mfa.trusted_devices import TrustedDevices
from domain.oauth.assembly import build_oauth
from domain.oauth.page_bindings import PageBindings
from domain.oauth.page_passkey import PagePasskeys
from domain.oauth.page_social import SocialPageSignIns
from domain.passkeys import repository as passkey_store
from domain.passkeys.challenges import ChallengeStore
from domain.passkeys.management import PasskeyManagement
from domain.passkeys.reauthentication import PasskeyReauthentication
from domain.passkeys.registration import PasskeyRegistration
from domain.passkeys.relying_party import RelyingParty, derive_decoy_key
from domain.passkeys.sign_in import PasskeySignIn
from domain.passwordless.codes import EmailCodes, code_key
from domain.passwordless.email_sign_in import EmailSignIn
from domain.persisted_queries.store import PersistedQueryStore
from domain.privacy.wiring import EnqueueExport, PrivacyBase, build_privacy
from domain.ratelimit.policy import RateLimitService
from domain.registry import Services as Services
from domain.sessions.admission import RequestAdmission
from domain.sessions.documents import Session
from domain.sessions.family_cache import RefreshFamilies
from domain.sessions.principal import Authenticator
from domain.sessions.revocation import SessionRevocations
from domain.sessions.service import SessionService
from domain.sessions.watch import SessionWatch
from domain.social import repository as social_store
from domain.social.identities import SocialIdentities
from domain.social.linking import LinkRequests
from domain.social.pending import PendingSignIns
from domain.social.prove import ProviderGateway
from domain.social.sign_in import SocialSignIn
from domain.social.tokens import ProviderTokenVault
from domain.tokens.access import AccessTokenService
from domain.tokens.keys import load_key_set
from domain.webhooks.events import Enqueue as EnqueueDelivery
from domain.webhooks.wiring import build_audit_and_webhooks


def build_services(
    settings: Settings,
    clock: Clock,
    *,
    redis: Redis,
    hasher: PasswordHasher,
    transport: EmailTransport,
    enqueue_email: EnqueueEmail,
    enqueue_delivery: EnqueueDelivery,
    enqueue_export: EnqueueExport,
    social_http: httpx.AsyncClient | None = None,
) -> Services:
    access_tokens = AccessTokenService(load_key_set(settings), settings, clock)
    revocations = SessionRevocations(redis, settings)
    families = RefreshFamilies(redis, settings)
    box = sealing_box(settings)
    outbox = Outbox(settings, clock, box, enqueue_email)
    bus = EventBus(redis, settings.redis_key_prefix)
    audit, webhooks = build_audit_and_webhooks(settings, clock, bus=bus, enqueue=enqueue_delivery)
    users = CachedUsers(redis, settings)
    notices = AccountNotices(outbox, user_repository.get)

    async def alert_reuse(session: Session) -> None:
        user = await user_repository.get(session.user_id)
        if user is None:
            return
        await outbox.send(
            "refresh_reuse_alert",
            user.email,
            user_id=user.id,
            name=user.first_name,
            device=session.device,
            ip=session.ip,
        )

    async def api_key_created(creator: PydanticObjectId, key: ApiKey) -> None:
        await notices.api_key_created(creator, key.name, key.scopes)

    trusted = TrustedDevices(settings, clock, audit)

    async def factor_changed(user_id: PydanticObjectId, change: FactorChange) -> None:
        # A new or removed factor re-decides which devices may skip it: none, for now.
        await trusted.end_all(user_id, f"factor_{change.value}", Actor.system())
        await notices.factor_changed(user_id, change)

    sessions = SessionService(
        settings,
        clock,
        access_tokens,
        revocations,
        redis,
        audit,
        bus,
        on_reuse=alert_reuse,
        load_active_owner=users.get_active,
        box=box,
        on_all_ended=trusted.end_all,
        families=families,
    )
    link_tokens = ActionTokens(clock)
    # Raises BreachedListError when a configured filter is missing: start-up stops.
    breached = build_breached_passwords(settings)
    quiet_mail = QuietMail(settings, redis, link_tokens, outbox)
    lockout = LockoutService(
        settings,
        clock,
        AttemptCounter(settings, redis, clock),
        users,
        link_tokens,
        quiet_mail,
        outbox,
        audit,
    )
    mfa = MfaService(
        box,
        clock,
        issuer=settings.totp_issuer or settings.product_name,
        on_change=factor_changed,
        on_replay=TotpReplayNotice(audit, quiet_mail, outbox),
    )
    authenticator = Authenticator(access_tokens, revocations)
    rate_limits = RateLimitService(settings, redis, clock)
    mfa_challenges = MfaChallenges(settings, redis, clock)
    relying_party = RelyingParty(settings, derive_decoy_key(settings))
    passkey_challenges = ChallengeStore(settings, redis, clock)
    passkey_reauthentication = PasskeyReauthentication(
        clock, relying_party, passkey_challenges, lockout=lockout, audit=audit, outbox=outbox
    )
    # Passkeys and emailed codes open their sessions through the password sign-in's own
    # end: the second factor, trusted devices and the session are decided there.
    login = LoginService(
        settings,
        clock,
        hasher,
        sessions,
        lockout,
        audit,
        users,
        mfa,
        mfa_challenges,
        trusted,
        has_passkey=passkey_reauthentication.has_passkey,
        locations=SignInLocations(settings, audit, outbox),
        breached=BreachedSignIn(settings, clock, breached, users, link_tokens, outbox, audit),
    )
    # Social sign-in: the gateway's HTTP client (its own unless one is given) times out
    # every call to a provider.
    social = ProviderGateway(settings, clock, PendingSignIns(settings, redis, clock), social_http)
    social_links = LinkRequests(settings, redis, clock, audit, outbox)
    # The provider's own tokens: kept sealed with the TOTP key only where the setting asks.
    social_tokens = ProviderTokenVault(settings, clock, box, social.refresh)
    # What an owner may remove and still get in (passkeys, linked identities).
    ways_in = WaysIn(
        {
            Credential.PASSKEY: passkey_store.count_of_user,
            Credential.SOCIAL: social_store.count_of_user,
        },
        email_sign_in=settings.email_sign_in_enabled,
    )
    reauthentication = Reauthentication(
        settings,
        clock,
        hasher,
        mfa,
        audit,
        lockout.record_failed_attempt,
        access_tokens,
        passkeys=passkey_reauthentication,
        families=families,
    )
    # The OpenID provider (domain/oauth/assembly.py).
    oauth = build_oauth(
        settings,
        clock,
        redis,
        audit=audit,
        users=users,
        revocations=revocations,
        sessions=sessions,
        reauthentication=reauthentication,
        on_refresh_reuse=notices.app_signed_out,
    )
    # Privacy (domain/privacy/): exports, deletion with an undo window, the erasure sweep.
    privacy_base = PrivacyBase.build(settings, clock)
    erasure_schedule, is_reserved = privacy_base.schedule, privacy_base.tombstones.is_reserved
    page_bindings = PageBindings(settings, redis)
    passkey_sign_in = PasskeySignIn(
        settings,
        clock,
        relying_party,
        passkey_challenges,
        login=login,
        mfa_challenges=mfa_challenges,
        lockout=lockout,
        audit=audit,
        outbox=outbox,
    )
    social_sign_in = SocialSignIn(
        clock,
        social,
        social_links,
        login=login,
        audit=audit,
        tokens=social_tokens,
        is_reserved=is_reserved,
    )
    super_admin_changes = SuperAdminChanges(redis, settings.redis_key_prefix)
    admin_users = AdminUsers(
        clock,
        audit,
        sessions,
        users,
        mfa,
        super_admin_changes,
        lockout,
        on_deleted=lambda user_id: erasure_schedule.schedule(user_id, "admin"),
        on_restored=erasure_schedule.unschedule,
    )
    return Services(
        access_tokens=access_tokens,
        authenticator=authenticator,
        admission=RequestAdmission(
            redis, authenticator, revocations, sessions, rate_limits, users.key
        ),
        revocations=revocations,
        session_watch=SessionWatch(bus),
        sessions=sessions,
        registration=RegistrationService(
            settings,
            clock,
            hasher,
            outbox,
            link_tokens,
            quiet_mail,
            audit,
            users,
            is_reserved,
            breached,
        ),
        login=login,
        credentials=CredentialsService(
            settings,
            clock,
            hasher,
            outbox,
            link_tokens,
            quiet_mail,
            sessions,
            lockout,
            audit,
            users,
            breached,
            is_reserved,
        ),
        profile=ProfileService(clock, audit, users),
        two_factor=TwoFactorService(hasher, lockout, audit, mfa),
        lockout=lockout,
        rate_limits=rate_limits,
        api_keys=ApiKeyService(
            clock, audit, on_created=api_key_created, max_rate_limit=settings.api_key_max_rate_limit
        ),
        reauthentication=reauthentication,
        audit=audit,
        admin_users=admin_users,
        users=users,
        analytics=AnalyticsService(settings, redis, clock),
        mfa=mfa,
        bus=bus,
        outbox=outbox,
        email_delivery=EmailDelivery(
            settings,
            clock,
            outbox,
            Mailer(settings, transport),
            SendReceipts(redis, settings.redis_key_prefix),
        ),
        webhooks=webhooks,
        persisted_queries=PersistedQueryStore(redis, settings, clock),
        passkey_reauthentication=passkey_reauthentication,
        trusted_devices=trusted,
        email_sign_in=EmailSignIn(
            settings,
            clock,
            EmailCodes(settings, redis, clock, code_key(settings)),
            login=login,
            sessions=sessions,
            lockout=lockout,
            users=users,
            audit=audit,
            outbox=outbox,
        ),
        passkey_registration=PasskeyRegistration(
            clock, relying_party, passkey_challenges, audit, outbox
        ),
        passkey_sign_in=passkey_sign_in,
        passkeys=PasskeyManagement(audit, outbox, trusted, ways_in),
        social_sign_in=social_sign_in,
        social_links=social_links,
        social_identities=SocialIdentities(clock, social, audit, outbox, social_tokens, ways_in),
        social_tokens=social_tokens,
        oauth_clients=oauth.clients,
        oauth=oauth.provider,
        oauth_logout=oauth.logout,
        oauth_devices=oauth.devices,
        oauth_headless=oauth.headless,
        oauth_authorized_apps=oauth.authorized_apps,
        oauth_social_page=SocialPageSignIns(
            settings, page_bindings, oauth.provider.store, social, social_sign_in
        ),
        oauth_passkey_page=PagePasskeys(settings, page_bindings, passkey_sign_in),
        impersonation=ImpersonationService(
            settings, clock, access_tokens, sessions, users, audit, outbox
        ),
        privacy=build_privacy(
            settings,
            clock,
            privacy_base,
            link_tokens=link_tokens,
            outbox=outbox,
            audit=audit,
            users=users,
            sessions=sessions,
            super_admin_changes=super_admin_changes,
            listing_changed=admin_users.changed,
            enqueue_export=enqueue_export,
        ),
        breached_passwords=breached,
    )
