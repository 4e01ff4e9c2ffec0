"""Create the first administrator (or any user with a role) from the command line.

    uv run python scripts/create_admin.py --email admin@example.com \
        --first-name Ada --last-name Admin [--role super_admin]

The password is read from GATEHOUSE_ADMIN_PASSWORD or asked for (not echoed), and
meets the same policy and breached-password lists as any new password. The settings
(GATEHOUSE_MONGODB_URL, ...) are the server's own.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.core.clock import SystemClock
from domain.core.db import create_mongo_client, init_database
from domain.core.errors import ValidationError
from domain.core.roles import Role
from domain.core.settings import get_settings
from domain.documents import DOCUMENT_MODELS
from domain.identity.passwords import create_password_hasher
from domain.identity.provisioning import create_user
from workers.resources import get_services


async def run(args: argparse.Namespace, password: str) -> int:
    settings = get_settings()
    # The lists every other new password is checked against (an administrator's most of
    # all), from the services as the worker builds them (the one composition root).
    breached = get_services().breached_passwords
    try:
        problems = await breached.new_password_problems(password, "password")
    finally:
        await breached.aclose()
    if problems:
        for problem in problems:
            print(f"{problem.field}: {problem.message}", file=sys.stderr)
        return 2
    client = create_mongo_client(settings)
    hasher = create_password_hasher(settings)
    try:
        await init_database(
            client[settings.mongodb_database], DOCUMENT_MODELS, settings.database_flavour
        )
        user = await create_user(
            settings=settings,
            clock=SystemClock(),
            hasher=hasher,
            email=args.email,
            password=password,
            first_name=args.first_name,
            last_name=args.last_name,
            role=Role(args.role),
            email_verified=True,
        )
    except ValidationError as error:
        for problem in error.field_errors:
            print(f"{problem.field}: {problem.message}", file=sys.stderr)
        return 2
    finally:
        hasher.close()
        await client.close()
    print(f"created {user.role.value} {user.email} ({user.id})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--email", required=True)
    parser.add_argument("--first-name", required=True)
    parser.add_argument("--last-name", required=True)
    parser.add_argument("--role", default=Role.SUPER_ADMIN.value, choices=[r.value for r in Role])
    args = parser.parse_args()
    password = os.environ.get("GATEHOUSE_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    return asyncio.run(run(args, password))


if __name__ == "__main__":
    raise SystemExit(main())
