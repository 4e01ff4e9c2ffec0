"""Which provider identities an account has linked, without a scan on FerretDB.

``me { identities }``, ``signInMethods``, unlinking and the last-sign-in-method rule ask
for an account's identities: the identities' ``user`` index on MongoDB, a per-account
listing of identity ids read by ``_id`` on FerretDB (``domain/core/owner_listing.py``).
"""

from __future__ import annotations

from domain.core.owner_listing import OwnedKind, OwnerIndexes, OwnerListingDocument
from domain.social.documents import SocialIdentity

# Bump when the listing must be rebuilt again at the next start.
REBUILT_MARKER = "social-identity-owners-listed:v1"


class SocialIdentityOwner(OwnerListingDocument):
    """An account's linked identity ids ("<provider>:<subject>")."""

    class Settings:
        name = "social_identity_owners"
        use_state_management = False


SOCIAL_OWNERS: OwnerIndexes[SocialIdentity] = OwnerIndexes(
    OwnedKind(
        items=SocialIdentity, owners=SocialIdentityOwner, listed_field="", marker=REBUILT_MARKER
    )
)
