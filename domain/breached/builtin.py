"""The built-in list: the 30,000 most common passwords that zxcvbn ships.

zxcvbn (MIT licence, already the strength estimator, domain/identity/validation.py)
carries them as its ``passwords`` frequency list, drawn from leaked password corpora.
zxcvbn's score already refuses most of them as new passwords; this list also serves
sign-in (an old password set before the policy, or imported) and deployments that lower
``password_min_strength``. Compiled at start-up, once per process (the API and each
worker event loop share it; nothing adds to it afterwards): 50-150 ms, 108 KB.
Exact matches only: zxcvbn keeps them lower-case, so "Password" is not in it.
"""

from __future__ import annotations

from functools import lru_cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from domain.breached.bloom_list import DEFAULT_FALSE_POSITIVE_RATE, BreachedList, build
from domain.breached.bloom_list import password_digest as _digest

BUILTIN_SOURCE = "zxcvbn 4.5 passwords list (MIT)"


def builtin_passwords() -> list[str]:
    return list(FREQUENCY_LISTS["passwords"])


@lru_cache(maxsize=2)
def builtin_list(false_positive_rate: float = DEFAULT_FALSE_POSITIVE_RATE) -> BreachedList:
    passwords = builtin_passwords()
    return build(
        (_digest(p) for p in passwords),
        len(passwords),
        false_positive_rate=false_positive_rate,
        source=BUILTIN_SOURCE,
    )
