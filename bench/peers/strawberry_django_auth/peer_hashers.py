"""Django's argon2 hasher with Gatehouse's parameters (from the harness)."""

from __future__ import annotations

import os

from django.contrib.auth.hashers import Argon2PasswordHasher


class BenchArgon2PasswordHasher(Argon2PasswordHasher):
    memory_cost = int(os.environ.get("BENCH_ARGON2_MEMORY_KIB", "19456"))
    time_cost = int(os.environ.get("BENCH_ARGON2_TIME_COST", "2"))
    parallelism = int(os.environ.get("BENCH_ARGON2_PARALLELISM", "1"))
