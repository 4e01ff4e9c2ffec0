"""Create the tables and seed users: ``python seed.py USERS_FILE BULK_COUNT BULK_HASH``.

USERS_FILE has one ``email<TAB>argon2id hash`` line per bench user (real hashes made by
the harness); BULK_COUNT more users share BULK_HASH. Every user is verified.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from gqlauth.models import UserStatus  # noqa: E402

BATCH = 5000


def _django_hash(phc: str) -> str:
    # Django prefixes the standard PHC string with its algorithm name.
    return "argon2" + phc


def main() -> None:
    users_file, bulk_count, bulk_hash = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    # No admin site is served, so its middleware checks do not apply.
    call_command("migrate", verbosity=0, skip_checks=True)
    model = get_user_model()
    rows = [line.split("\t") for line in Path(users_file).read_text().splitlines() if line]
    start = model.objects.count()
    people = [(email, _django_hash(h)) for email, h in rows]
    people += [
        (f"bulk-{start + i:07d}@bench.example", _django_hash(bulk_hash)) for i in range(bulk_count)
    ]
    for offset in range(0, len(people), BATCH):
        chunk = [
            model(username=email, email=email, password=hashed, is_active=True)
            for email, hashed in people[offset : offset + BATCH]
        ]
        created = model.objects.bulk_create(chunk)
        UserStatus.objects.bulk_create([UserStatus(user=u, verified=True) for u in created])
    print(model.objects.count())


if __name__ == "__main__":
    main()
