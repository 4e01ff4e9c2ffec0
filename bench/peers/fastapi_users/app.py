"""fastapi-users peer: Beanie adapter on the same FerretDB, JWT strategy, Bearer transport.

Configured as its documentation sets it up (full Beanie example), with the choices that
make it comparable with Gatehouse:
- argon2id with Gatehouse's parameters (BENCH_ARGON2_* from the harness);
- access tokens of 15 minutes (Gatehouse's default); login requires a verified email;
- registration asks for a verification token (``request_verify``) and writes the
  verification email as an .eml file, the way Gatehouse's file backend does;
- FerretDB 1.24 implements no collations, which the adapter's case-insensitive email
  index and ``get_by_email`` use: emails are stored lowercased with a plain unique
  index and looked up exactly (what Gatehouse does), in a small adapter subclass.

Run by the harness with uvicorn (``app:app``), BENCH_MONGODB_URL / BENCH_MONGODB_DATABASE /
BENCH_JWT_SECRET / BENCH_MAIL_DIR in the environment. Python 3.11, its own venv.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

from beanie import Document, PydanticObjectId, init_beanie
from fastapi import Depends, FastAPI, Request
from fastapi_users import BaseUserManager, FastAPIUsers, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.password import PasswordHelper
from fastapi_users_db_beanie import BeanieBaseUser, BeanieUserDatabase, ObjectIDIDMixin
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pymongo import AsyncMongoClient, IndexModel

SECRET = os.environ["BENCH_JWT_SECRET"]
MAIL_DIR = Path(os.environ["BENCH_MAIL_DIR"])
ACCESS_TOKEN_SECONDS = 900

password_helper = PasswordHelper(
    PasswordHash(
        (
            Argon2Hasher(
                memory_cost=int(os.environ["BENCH_ARGON2_MEMORY_KIB"]),
                time_cost=int(os.environ["BENCH_ARGON2_TIME_COST"]),
                parallelism=int(os.environ["BENCH_ARGON2_PARALLELISM"]),
            ),
        )
    )
)


class User(BeanieBaseUser, Document):  # type: ignore[misc]
    class Settings:
        name = "users"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel("email", name="email_unique", unique=True)
        ]


class UserDatabase(BeanieUserDatabase[User]):
    """The adapter without collations (FerretDB): lowercased emails, exact lookups."""

    async def get_by_email(self, email: str) -> User | None:
        return await User.find_one(User.email == email.lower())

    async def create(self, create_dict: dict[str, Any]) -> User:
        return await super().create({**create_dict, "email": create_dict["email"].lower()})


class UserRead(schemas.BaseUser[PydanticObjectId]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


def _write_email(to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = "no-reply@peer.local"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    (MAIL_DIR / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))


class UserManager(ObjectIDIDMixin, BaseUserManager[User, PydanticObjectId]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET

    async def on_after_register(self, user: User, request: Request | None = None) -> None:
        # The documented place to start email verification after sign-up.
        await self.request_verify(user, request)

    async def on_after_request_verify(
        self, user: User, token: str, request: Request | None = None
    ) -> None:
        await asyncio.to_thread(
            _write_email, user.email, "Verify your email", f"Your token: {token}"
        )


async def get_user_db() -> AsyncIterator[BeanieUserDatabase[User]]:
    yield UserDatabase(User)


async def get_user_manager(
    user_db: BeanieUserDatabase[User] = Depends(get_user_db),  # noqa: B008
) -> AsyncIterator[UserManager]:
    yield UserManager(user_db, password_helper)


bearer_transport = BearerTransport(tokenUrl="auth/jwt/login")


def get_jwt_strategy() -> JWTStrategy[User, PydanticObjectId]:
    return JWTStrategy(secret=SECRET, lifetime_seconds=ACCESS_TOKEN_SECONDS)


auth_backend = AuthenticationBackend(
    name="jwt", transport=bearer_transport, get_strategy=get_jwt_strategy
)
fastapi_users = FastAPIUsers[User, PydanticObjectId](get_user_manager, [auth_backend])


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        os.environ["BENCH_MONGODB_URL"], uuidRepresentation="standard", tz_aware=True
    )
    await init_beanie(
        database=client[os.environ["BENCH_MONGODB_DATABASE"]],
        document_models=[User],
        skip_indexes=True,  # the seeder made them (FerretDB: one at a time)
    )
    yield
    await client.close()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
app.include_router(
    fastapi_users.get_auth_router(auth_backend, requires_verification=True),
    prefix="/auth/jwt",
)
app.include_router(fastapi_users.get_register_router(UserRead, UserCreate), prefix="/auth")
app.include_router(fastapi_users.get_verify_router(UserRead), prefix="/auth")
app.include_router(fastapi_users.get_users_router(UserRead, UserUpdate), prefix="/users")
