"""How a session proved who it is: RFC 8176 authentication method references (``amr``).

A sign-in records the methods it used, in the order it used them, and the registered
value ``mfa`` when it counts as multi-factor, so a relying party (and ``SecondFactorFor``
here) reads one claim instead of guessing from the methods: an emailed code and a TOTP
code are both ``otp``, and a remembered device skips the code without a method of its
own. The values, all registered in RFC 8176 section 2:

- ``pwd``: the password;
- ``otp``: a one-time code (TOTP, a backup code, or a code emailed to the address);
- ``hwk`` + ``user``: a passkey (a hardware-bound key) whose authenticator verified its
  user (a PIN or biometric); ``hwk`` alone without that verification;
- ``mfa``: more than one factor (or a trusted device standing in for the second).

Every sign-in of a session is kept on the session and its refresh family, so refreshed
tokens carry it too. Sessions opened before it was kept only say whether a second
factor was used (``mfa``): they signed in with a password and, if so, a code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

PASSWORD = "pwd"
ONE_TIME_CODE = "otp"
HARDWARE_KEY = "hwk"
USER_PRESENCE = "user"
MULTI_FACTOR = "mfa"


def sign_in_methods(used: Iterable[str], *, multi_factor: bool) -> tuple[str, ...]:
    """The ``amr`` of a sign-in: each method once, in order, and ``mfa`` last if it counts."""
    seen: list[str] = []
    for method in used:
        if method != MULTI_FACTOR and method not in seen:
            seen.append(method)
    return (*seen, MULTI_FACTOR) if multi_factor else tuple(seen)


def legacy_methods(mfa: bool) -> tuple[str, ...]:
    """The ``amr`` of a session opened before it was kept: a password, and a code if ``mfa``."""
    used = (PASSWORD, ONE_TIME_CODE) if mfa else (PASSWORD,)
    return sign_in_methods(used, multi_factor=mfa)


def is_multi_factor(amr: Sequence[str]) -> bool:
    """Whether a sign-in with these methods counts as multi-factor.

    Tokens signed before ``mfa`` was written said ``["pwd", "otp"]`` for a second factor.
    """
    return MULTI_FACTOR in amr or (PASSWORD in amr and ONE_TIME_CODE in amr)
