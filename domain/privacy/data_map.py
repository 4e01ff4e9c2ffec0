"""The personal data map: for every stored document type, how to find one person's
records, what of them the person's export shows, and what erasure does to them.

Export (domain/privacy/export.py) and erasure (domain/privacy/erasure.py) both read
this map and nothing else, so a collection added later is added here once; a test
fails while a document model in domain/documents.py has no entry
(tests/privacy/test_data_map.py).

Filters other than ``{_id: ...}`` scan the collection on FerretDB 1.24; both uses are
rare jobs (an export, an erasure), never on a request's hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId

from domain.apikeys.service import ApiKey
from domain.audit.documents import AuditEvent
from domain.audit.service import AuditService
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

Filter = dict[str, Any]
# One erasure step: the records it touches, and the update for them (None: delete them).
Step = tuple[Filter, dict[str, Any] | None]
Stored = dict[str, Any]


class Handling(StrEnum):
    DELETE = "delete"  # the person's records go
    ANONYMISE = "anonymise"  # kept, with what identifies the person taken out
    NOT_PERSONAL = "not_personal"  # holds nothing about a person (``why`` says why)


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose data: the account's id and address, and the pseudonym that replaces the
    id where a record is kept (a keyed hash: the same person's kept records still read
    as one actor, but lead to nobody)."""

    user_id: PydanticObjectId
    email: str
    pseudonym: str


@dataclass(frozen=True, slots=True)
class PersonalData:
    model: type[Document]
    handling: Handling
    why: str
    # The person's records (None: none are the person's).
    find: Callable[[Subject], Filter] | None = None
    # The fields the export shows (empty: nothing the person can use, e.g. secrets only).
    export: tuple[str, ...] = ()
    # For ANONYMISE: the steps (filter, update) that take the person out.
    anonymise: Callable[[Subject], list[Step]] | None = None
    # A record as the person may see it, before the export fields are picked (None: as
    # stored). For what someone else's data sits in: an administrator who acted.
    shown: Callable[[Subject, Stored], Stored] | None = None

    @property
    def collection(self) -> str:
        return self.model.get_collection_name()

    def erasure_steps(self, subject: Subject) -> list[Step]:
        if self.handling is Handling.DELETE and self.find is not None:
            return [(self.find(subject), None)]
        if self.handling is Handling.ANONYMISE and self.anonymise is not None:
            return self.anonymise(subject)
        return []


def _by_user(subject: Subject) -> Filter:
    return {"user_id": subject.user_id}


def _by_id(subject: Subject) -> Filter:
    return {"_id": subject.user_id}


def _emails(subject: Subject) -> Filter:
    # By account (a notice to the address it had, a link to one it asked for and never
    # confirmed), and by address the messages recorded before the account was kept.
    return {"$or": [{"user_id": subject.user_id}, {"to": subject.email, "user_id": None}]}


def _audit_steps(subject: Subject) -> list[Step]:
    uid = str(subject.user_id)
    unplaced: dict[str, Any] = {"ip": "", "user_agent": ""}
    target: dict[str, Any] = {
        "target_id": subject.pseudonym,
        "before": None,
        "after": None,
        "details": {},
    }
    return [
        # What the person did: the actor becomes the pseudonym, from nowhere in particular.
        ({"actor_id": uid}, {"$set": {"actor_id": subject.pseudonym, **unplaced}}),
        # What was done to the person before they were signed in (a sign-in, a challenge):
        # the address it came from is theirs too. An administrator's stays.
        ({"target_id": uid, "actor_id": None}, {"$set": unplaced}),
        # What was done to the person: the target becomes the pseudonym and the account's
        # before/after states (email, name) and the details go.
        ({"target_id": uid}, {"$set": target}),
    ]


def _audit_as_seen(subject: Subject, stored: Stored) -> Stored:
    # The view mySecurityEvents gives (SECURITY.md 4.2.1): where an administrator acted,
    # or acted as the person, their IP, user agent and id stay in the full trail.
    event = AuditEvent.model_validate(stored)
    seen: Stored = AuditService.as_seen_by(event, str(subject.user_id)).model_dump(by_alias=True)
    return seen


def _webhook_event_steps(subject: Subject) -> list[Step]:
    # Already sent; kept so delivery history still reads, with the data reduced to the
    # pseudonym (user.registered carried the address).
    return [
        (
            {"data.user_id": str(subject.user_id)},
            {"$set": {"data": {"user_id": subject.pseudonym}}},
        )
    ]


def _impersonation_steps(subject: Subject) -> list[Step]:
    # Impersonations of the person go with them; those they did as an administrator
    # stay in the other account's history, under the pseudonym.
    uid = str(subject.user_id)
    return [
        ({"user_id": uid}, None),
        ({"admin_id": uid}, {"$set": {"admin_id": subject.pseudonym, "admin_session_id": ""}}),
    ]


def _api_key_steps(subject: Subject) -> list[Step]:
    # A key belongs to the service that uses it; only who created it goes.
    return [({"created_by": subject.user_id}, {"$unset": {"created_by": ""}})]


PERSONAL_DATA: tuple[PersonalData, ...] = (
    PersonalData(
        PendingErasure,
        Handling.DELETE,
        "the deletion request itself",
        find=_by_id,
        export=("requested_at", "erase_after", "requested_by"),
    ),
    PersonalData(
        Session,
        Handling.DELETE,
        "sign-ins: device, IP, user agent",
        find=_by_user,
        export=(
            "_id",
            "device",
            "ip",
            "user_agent",
            "created_at",
            "last_seen_at",
            "expires_at",
            "revoked_at",
            "revoked_reason",
            "amr",
        ),
    ),
    PersonalData(RefreshFamily, Handling.DELETE, "refresh secrets (sealed)", find=_by_user),
    PersonalData(
        RefreshRotation,
        Handling.DELETE,
        "refresh rotations: when, browser family and IP network",
        find=_by_user,
        export=("at", "context", "expires_at"),
    ),
    PersonalData(RefreshToken, Handling.DELETE, "refresh token digests", find=_by_user),
    PersonalData(
        ActionToken,
        Handling.DELETE,
        "pending emailed links (digests), a new address waiting for confirmation",
        find=_by_user,
        export=("purpose", "created_at", "expires_at", "new_email"),
    ),
    PersonalData(
        TotpCredential,
        Handling.DELETE,
        "the authenticator app (secret sealed; never exported)",
        find=_by_user,
        export=("created_at", "confirmed_at"),
    ),
    PersonalData(
        BackupCode,
        Handling.DELETE,
        "backup code digests",
        find=_by_user,
        export=("created_at", "batch"),
    ),
    PersonalData(
        TrustedDevice,
        Handling.DELETE,
        "devices that skip the second factor: device, IP",
        find=_by_user,
        export=("device", "ip", "created_at", "last_used_at", "expires_at"),
    ),
    PersonalData(
        Passkey,
        Handling.DELETE,
        "passkeys (public keys are not exported)",
        find=_by_user,
        export=(
            "name",
            "device_type",
            "backed_up",
            "aaguid",
            "transports",
            "created_at",
            "last_used_at",
        ),
    ),
    PersonalData(
        PasskeyOwner,
        Handling.DELETE,
        "the ids of the account's passkeys (the FerretDB listing; nothing to export)",
        find=_by_id,
    ),
    PersonalData(
        SocialIdentity,
        Handling.DELETE,
        "linked provider accounts (provider tokens sealed; never exported)",
        find=_by_user,
        export=("provider", "subject", "email", "email_verified", "created_at", "last_used_at"),
    ),
    PersonalData(
        SocialIdentityOwner,
        Handling.DELETE,
        "the ids of the account's linked identities (the FerretDB listing; nothing to export)",
        find=_by_id,
    ),
    PersonalData(
        OAuthConsent,
        Handling.DELETE,
        "applications the person allowed",
        find=lambda s: {"user_id": str(s.user_id)},
        export=("client_id", "scopes", "granted_at"),
    ),
    PersonalData(
        EmailMessage,
        Handling.DELETE,
        "emails sent to the person, to any address the account had or asked for (contents "
        "sealed; only metadata exported)",
        find=_emails,
        export=("to", "template", "status", "created_at", "sent_at"),
    ),
    PersonalData(
        LoginIdentifier,
        Handling.DELETE,
        "the address that finds the account at sign-in",
        find=_by_user,
        export=("_id",),
    ),
    PersonalData(
        ApiKey,
        Handling.ANONYMISE,
        "service keys the person created (secrets never exported)",
        find=lambda s: {"created_by": s.user_id},
        export=("_id", "name", "scopes", "rate_limit", "created_at", "revoked_at"),
        anonymise=_api_key_steps,
    ),
    PersonalData(
        AuditEvent,
        Handling.ANONYMISE,
        "the audit trail and security events: what the person did and what was done to them",
        find=lambda s: {"$or": [{"actor_id": str(s.user_id)}, {"target_id": str(s.user_id)}]},
        export=(
            "event",
            "action",
            "result",
            "actor_type",
            "ip",
            "user_agent",
            "occurred_at",
            "details",
        ),
        anonymise=_audit_steps,
        shown=_audit_as_seen,
    ),
    PersonalData(
        WebhookEvent,
        Handling.ANONYMISE,
        "what other systems were told about the account",
        find=lambda s: {"data.user_id": str(s.user_id)},
        export=("type", "created_at"),
        anonymise=_webhook_event_steps,
    ),
    # Last: the account itself, once nothing else needs to find it.
    PersonalData(
        ImpersonationRecord,
        Handling.ANONYMISE,
        "support staff seeing the account as the person (the administrator not named, as in "
        "mySessions), and impersonations the person did as an administrator",
        find=lambda s: {"$or": [{"user_id": str(s.user_id)}, {"admin_id": str(s.user_id)}]},
        export=("_id", "reason", "read_only", "started_at", "expires_at", "ended_at", "end_reason"),
        anonymise=_impersonation_steps,
    ),
    PersonalData(
        User,
        Handling.DELETE,
        # All but the password hashes (secrets) and the document's version (bookkeeping).
        "the profile, with where the person signed in from and what sign-ins found",
        find=_by_id,
        export=(
            "email",
            "first_name",
            "last_name",
            "role",
            "status",
            "email_verified",
            "email_verified_at",
            "created_at",
            "updated_at",
            "last_login_at",
            "password_changed_at",
            "locked_at",
            "failed_login_count",
            "last_failed_login_at",
            "known_devices",
            "known_countries",
            "last_country",
            "last_country_at",
            "password_breached_at",
        ),
    ),
    PersonalData(
        Claim,
        Handling.NOT_PERSONAL,
        "one-time decisions keyed by ids and digests; they expire (maintenance sweep)",
    ),
    PersonalData(OAuthClient, Handling.NOT_PERSONAL, "applications registered by administrators"),
    PersonalData(WebhookEndpoint, Handling.NOT_PERSONAL, "receivers set up by administrators"),
    PersonalData(
        WebhookDelivery,
        Handling.NOT_PERSONAL,
        "attempts to send an event: ids, statuses (the event's data is the event's entry)",
    ),
    PersonalData(
        EmailTombstone,
        Handling.NOT_PERSONAL,
        "a keyed hash of an erased address, no address; expires after the grace period",
    ),
)


def entry_for(model: type[Document]) -> PersonalData | None:
    return next((entry for entry in PERSONAL_DATA if entry.model is model), None)
