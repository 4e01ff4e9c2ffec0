"""TOTP credentials are keyed by their owner's id, so sign-in finds one with a read by
``_id`` (FerretDB scans on any other filter). A credential stored before that, under a
random ``_id`` with the former unique index on ``user_id``, is re-keyed when the app
starts, and its owner's sign-in still asks for the second factor."""

from __future__ import annotations

from datetime import UTC, datetime

import pyotp
from beanie import PydanticObjectId
from bson import ObjectId

from domain.core.clock import FrozenClock
from domain.core.roles import Role
from domain.mfa.documents import TotpCredential
from domain.mfa.rekey import FORMER_UNIQUE_INDEX
from tests.api.identity_ops import PASSWORD, call, login
from tests.passkeys.support import enable_totp, password_login
from tests.support.accounts import staff_account
from tests.support.asgi import AppWith, asgi_client

CLOCK_START = datetime(2026, 9, 14, 9, 0, tzinfo=UTC)
EMAIL = "rekeyed.totp@example.com"
COMPLETE = """
mutation($challenge: String!, $code: String!) {
  completeMfaLogin(challengeToken: $challenge, code: $code) { __typename }
}"""


async def test_a_credential_under_a_random_id_is_rekeyed_at_start_up(
    app_with: AppWith, clock: FrozenClock
) -> None:
    async with app_with(clock=clock) as app, asgi_client(app) as http:
        await staff_account(app.state, EMAIL, PASSWORD, Role.STUDENT)
        signed_in = await login(http, EMAIL, PASSWORD)
        user_id = PydanticObjectId(signed_in["user"]["id"])
        secret = await enable_totp(http, signed_in["accessToken"], clock)
        stored = await TotpCredential.get_pymongo_collection().find_one({"_id": user_id})
        assert stored is not None
        assert stored["user_id"] == user_id
        # As an earlier version stored it.
        collection = TotpCredential.get_pymongo_collection()
        await collection.delete_one({"_id": user_id})
        await collection.insert_one({**stored, "_id": ObjectId()})
        await collection.create_index("user_id", unique=True, name=FORMER_UNIQUE_INDEX)

    async with app_with(clock=clock) as app, asgi_client(app) as http:
        collection = TotpCredential.get_pymongo_collection()
        found = await collection.find({"user_id": user_id}).to_list()
        assert [doc["_id"] for doc in found] == [user_id]
        assert found[0]["encrypted_secret"] == stored["encrypted_secret"]
        assert FORMER_UNIQUE_INDEX not in await collection.index_information()
        asked = await password_login(http, EMAIL)
        assert asked["__typename"] == "MfaRequired", asked
        code = pyotp.TOTP(secret).at(clock.now())
        done = await call(http, COMPLETE, {"challenge": asked["challengeToken"], "code": code})
        assert done["data"]["completeMfaLogin"]["__typename"] == "AuthPayload", done
