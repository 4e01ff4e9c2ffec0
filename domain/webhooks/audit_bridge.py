"""Which audit events become which webhook events, and with what data.

Every account event Gatehouse emits is already written to the audit trail at the
moment it happens, so one hook after the audit insert publishes webhooks for all
of them (``WebhookPublishing.publish_audit``). The data is deliberately small: ids,
reasons, roles; an email address only where the event is about that address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.audit.documents import AuditEvent

Mapped = tuple[str, dict[str, Any]] | None


def _state(value: Mapping[str, Any] | None, key: str) -> Any:
    return value.get(key) if value else None


def _user(record: AuditEvent) -> dict[str, Any]:
    return {"user_id": record.target_id}


def _registered(record: AuditEvent) -> Mapped:
    return "user.registered", {**_user(record), "email": _state(record.after, "email")}


def _login_failed(record: AuditEvent) -> Mapped:
    if record.target_id is None:  # no such account: nothing to tell about a user
        return None
    return "user.login_failed", {**_user(record), "reason": record.details.get("reason")}


def _locked(record: AuditEvent) -> Mapped:
    return "user.locked", {
        **_user(record),
        "failed_attempts": record.details.get("failed_attempts"),
    }


def _password(method: str) -> Callable[[AuditEvent], Mapped]:
    def mapped(record: AuditEvent) -> Mapped:
        return "user.password_changed", {**_user(record), "method": method}

    return mapped


def _role_changed(record: AuditEvent) -> Mapped:
    before, after = _state(record.before, "role"), _state(record.after, "role")
    if before == after or after is None:
        return None
    return "user.role_changed", {
        **_user(record),
        "previous_role": before,
        "role": after,
        "actor_id": record.actor_id,
    }


def _deleted(record: AuditEvent) -> Mapped:
    return "user.deleted", {**_user(record), "actor_id": record.actor_id}


def _erased(record: AuditEvent) -> Mapped:
    # The erasure sweep (domain/privacy/erasure.py): the data is gone here; receivers
    # erase theirs. Sent after the grace period, besides the one at deletion time.
    return "user.deleted", {**_user(record), "actor_id": None, "erased": True}


def _identity_linked(record: AuditEvent) -> Mapped:
    # ``proof``: how the owner showed the account was theirs ("sign_in", "email", or
    # "signed_in" for a link begun from the account).
    return "user.identity_linked", {
        **_user(record),
        "provider": record.details.get("provider"),
        "proof": record.details.get("proof"),
    }


def _identity_unlinked(record: AuditEvent) -> Mapped:
    # By the owner, or by an administrator (``actor_id`` tells which, as for user.deleted).
    return "user.identity_unlinked", {
        **_user(record),
        "provider": record.details.get("provider"),
        "actor_id": record.actor_id,
    }


def _session_revoked(record: AuditEvent) -> Mapped:
    return "session.revoked", {
        **_user(record),
        "session_id": record.details.get("session"),
        "sessions": 1,
        "reason": record.details.get("reason"),
    }


def _sessions_revoked(record: AuditEvent) -> Mapped:
    return "session.revoked", {
        **_user(record),
        "session_id": None,
        "sessions": record.details.get("sessions"),
        "reason": record.details.get("reason"),
    }


def _refresh_reuse(record: AuditEvent) -> Mapped:
    return "security.refresh_reuse", {**_user(record), "session_id": record.details.get("session")}


def _app_refresh_reuse(record: AuditEvent) -> Mapped:
    # An app's refresh token used twice (domain/oauth/refresh.py): its grant ended, the
    # person's Gatehouse session did not.
    return "security.refresh_reuse", {
        **_user(record),
        "session_id": None,
        "client_id": record.details.get("client_id"),
    }


def _new_country(record: AuditEvent) -> Mapped:
    return "security.new_country_sign_in", {
        **_user(record),
        "country": record.details.get("country"),
    }


def _impossible_travel(record: AuditEvent) -> Mapped:
    return "security.impossible_travel", {
        **_user(record),
        "country": record.details.get("country"),
        "previous_country": record.details.get("previous_country"),
        "distance_km": record.details.get("distance_km"),
        "minutes": record.details.get("minutes"),
    }


def _impersonation_started(record: AuditEvent) -> Mapped:
    # ``actor_id``: the administrator; ``reason``: what they gave (shown to the user too).
    return "security.impersonation_started", {
        **_user(record),
        "actor_id": record.actor_id,
        "session_id": record.details.get("session"),
        "read_only": record.details.get("read_only"),
        "reason": record.details.get("reason"),
    }


def _impersonation_ended(record: AuditEvent) -> Mapped:
    return "security.impersonation_ended", {
        **_user(record),
        "actor_id": record.actor_id,
        "session_id": record.details.get("session"),
        "how": record.details.get("how"),
    }


def _oauth_client(record: AuditEvent) -> Mapped:
    # An administrator's change to a relying party (domain/oauth/clients.py): the client's
    # id and public description only. The audit record never holds the secret, and this
    # reads only the fields named here, so a rotation's webhook cannot carry it either.
    return record.event, {
        "client_id": record.target_id,
        "name": _state(record.after, "name"),
        "client_type": _state(record.after, "type"),
        "disabled": _state(record.after, "disabled"),
        "actor_id": record.actor_id,
    }


def _consent_revoked(record: AuditEvent) -> Mapped:
    # A person withdrew an authorized app (domain/oauth/consents.py); ``grants_revoked``:
    # how many of the app's grants to them ended with it.
    return "oauth.consent_revoked", {
        **_user(record),
        "client_id": record.details.get("client_id"),
        "grants_revoked": record.details.get("grants_revoked"),
        "actor_id": record.actor_id,
    }


def _plain(event_type: str) -> Callable[[AuditEvent], Mapped]:
    def mapped(record: AuditEvent) -> Mapped:
        return event_type, _user(record)

    return mapped


_MAPPERS: dict[str, Callable[[AuditEvent], Mapped]] = {
    "user.registered": _registered,
    "user.verified": _plain("user.verified"),
    "user.login_failed": _login_failed,
    "user.locked": _locked,
    "user.unlocked": _plain("user.unlocked"),
    "user.password_changed": _password("change"),
    "user.password_reset": _password("reset"),
    "admin.user_updated": _role_changed,
    "admin.user_deleted": _deleted,
    "user.deletion_requested": _deleted,
    "privacy.user_erased": _erased,
    "user.social_linked": _identity_linked,
    "user.social_unlinked": _identity_unlinked,
    "admin.user_identity_removed": _identity_unlinked,
    "session.revoked": _session_revoked,
    "session.revoked_all": _sessions_revoked,
    "session.refresh_reuse": _refresh_reuse,
    "oauth.refresh_reuse": _app_refresh_reuse,
    "security.new_country_sign_in": _new_country,
    "security.impossible_travel": _impossible_travel,
    "impersonation.started": _impersonation_started,
    "impersonation.ended": _impersonation_ended,
    "oauth_client.created": _oauth_client,
    "oauth_client.updated": _oauth_client,
    "oauth_client.secret_rotated": _oauth_client,
    "oauth_client.disabled": _oauth_client,
    "oauth.consent_revoked": _consent_revoked,
}


def webhook_from_audit(record: AuditEvent) -> Mapped:
    """The webhook event type and data for an audit record, or None if none is sent."""
    mapper = _MAPPERS.get(record.event)
    return mapper(record) if mapper is not None else None
