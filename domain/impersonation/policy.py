"""Which mutations an impersonation session may run: pure rules, no I/O.

Read-only (the default): none but ending it (``logout``, ``endImpersonation``).
Read-write: any, except lasting control over the account, which an administrator never
gets by impersonating (SECURITY.md): every mutation that declares a recent
re-authentication (the schema reports those) and the ones listed here, which end or
renew the user's own sign-ins or change how they sign in.
"""

from __future__ import annotations

from collections.abc import Iterable

# Always allowed: an impersonation must always be able to end.
ENDING = frozenset({"logout", "endImpersonation"})

# Refused even read-write, beside every mutation marked @requires_recent_authentication.
NEVER = frozenset(
    {
        "impersonateUser",  # no nesting
        "reauthenticate",  # would renew the session's proof
        "beginPasskeyReauthentication",
        "changePassword",
        "requestEmailChange",
        "confirmEmailChange",
        "beginTotpEnrollment",
        "confirmTotpEnrollment",
        "disableTotp",
        "regenerateBackupCodes",
        "createApiKey",
        "revokeApiKey",
        "renamePasskey",
        "removePasskey",
        "beginPasskeyRegistration",
        "finishPasskeyRegistration",
        "beginSocialLink",
        "linkSocialIdentity",
        "confirmSocialLink",
        "unlinkSocialIdentity",
        "logoutAll",  # the user's other sign-ins are theirs
        "revokeSession",
        "revokeTrustedDevice",
    }
)


def refused_fields(
    fields: Iterable[str], *, read_only: bool, lasting_control: frozenset[str]
) -> list[str]:
    """The root mutation fields of one operation that this impersonation may not run."""
    refused = []
    for name in fields:
        if name in ENDING:
            continue
        if read_only or name in NEVER or name in lasting_control:
            refused.append(name)
    return refused
