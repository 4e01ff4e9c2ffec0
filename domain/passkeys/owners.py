"""Which passkeys an account has, without a scan on FerretDB.

The sign-in with an email, a two-factor sign-in (is a passkey one of the second steps?),
re-authentication, ``signInMethods`` and the account's own list all ask for an account's
passkeys: the passkeys' ``user`` index on MongoDB, a per-account listing of credential ids
and their transports read by ``_id`` on FerretDB (``domain/core/owner_listing.py``), which
is all a sign-in's options need.
"""

from __future__ import annotations

from domain.core.owner_listing import Entry, OwnedKind, OwnerIndexes, OwnerListingDocument
from domain.passkeys.documents import Passkey

# Bump when the listing must be rebuilt again at the next start.
REBUILT_MARKER = "passkey-owners-listed:v1"
# A credential id and the transports its browser reported.
ListedKey = Entry


class PasskeyOwner(OwnerListingDocument):
    """An account's credential ids, each with its transports."""

    class Settings:
        name = "passkey_owners"
        use_state_management = False


PASSKEY_OWNERS: OwnerIndexes[Passkey] = OwnerIndexes(
    OwnedKind(items=Passkey, owners=PasskeyOwner, listed_field="transports", marker=REBUILT_MARKER)
)
