"""Input rules that answer with per-field errors a user can act on.

Every function takes ``object``, not ``str``: GraphQL variables and JSON bodies can
carry anything, and a value that is not a string (an injected ``{"$gt": ""}``
object, a number, null) is refused here with a typed :class:`FieldError`, never
passed on to a query and never turned into an exception.

Emails are treated case-insensitively. The stored form is the address as
email-validator normalises it (domain lower-cased and in Unicode form, local part
NFC-normalised) and then lower-cased as a whole, so ``" Alice@Example.COM "`` and
``"alice@example.com"`` are the same account. Strictly, RFC 5321 lets a mail
server treat the local part case-sensitively; no mainstream provider does, and
treating them as different accounts invites look-alike registrations.

Codes (stable, part of the API): ``REQUIRED``, ``INVALID_TYPE``, ``TOO_SHORT``,
``TOO_LONG``, ``INVALID_EMAIL``, ``INVALID_CHARACTERS``, ``TOO_WEAK``.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from collections.abc import Sequence
from itertools import combinations, permutations
from typing import Any

from email_validator import EmailNotValidError
from email_validator import validate_email as _check_email
from zxcvbn import zxcvbn
from zxcvbn.matching import L33T_TABLE, enumerate_l33t_subs, relevant_l33t_subtable

from domain.core.errors import FieldError, ValidationError
from domain.core.settings import Settings

REQUIRED = "REQUIRED"
INVALID_TYPE = "INVALID_TYPE"
TOO_SHORT = "TOO_SHORT"
TOO_LONG = "TOO_LONG"
INVALID_EMAIL = "INVALID_EMAIL"
INVALID_CHARACTERS = "INVALID_CHARACTERS"
TOO_WEAK = "TOO_WEAK"

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100

# zxcvbn never sees more than this many characters of a password: past it a
# password is long enough, and the estimate only gets slower.
ZXCVBN_MAX_CHARS = 100
# ...and fewer when the prefix is expensive to judge. zxcvbn repeats its
# dictionary matching (quadratic in the length) once per l33t substitution table,
# and their number grows combinatorially with the distinct l33t characters
# present: "4@8({[<3691!|70$5+%2" repeated to 100 characters took ~7 s here, all
# of it blocking the event loop. Its scoring is roughly cubic in the length on
# repetitive input ("12" * 50: ~130 ms). The prefix is cut so that
# (l33t tables + 3) * n**2 + n**3 / 8 stays within this budget (~0.6 us a unit:
# 30-90 ms at worst measured on a busy 2-core machine; ordinary passwords are a
# few ms and not cut). A prefix scores no higher than the whole password in
# practice, so a cut may refuse a strong password but does not pass a weak one.
ZXCVBN_COST_BUDGET = 60_000
_USER_INPUT_MIN_LENGTH = 3
_USER_INPUT_MAX = 24

_WHITESPACE_RUN = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[\W_]+")
# Format characters are invisible (bidi overrides, BOM, soft hyphen, ...) and are
# refused in names, except the two joiners that some scripts and emoji need.
_ALLOWED_FORMAT_CHARS = frozenset({"\u200c", "\u200d"})


def _error(field: str, message: str, code: str) -> list[FieldError]:
    return [FieldError(field, message, code)]


def _not_text(raw: object, field: str, what: str) -> list[FieldError] | None:
    """The error for a value that is not a string, or None if it is one."""
    if isinstance(raw, str):
        return None
    if raw is None:
        return _error(field, f"Enter {what}.", REQUIRED)
    return _error(field, f"Enter {what} as text.", INVALID_TYPE)


# --------------------------------------------------------------------- emails


def validate_email(raw: object, field: str = "email") -> tuple[str | None, list[FieldError]]:
    """Check an email address; return ``(normalised, [])`` or ``(None, errors)``.

    Syntax and domain format only (``check_deliverability=False``: no DNS). The
    domain must contain a dot and may not be an IP address.
    """
    if (problem := _not_text(raw, field, "an email address")) is not None:
        return None, problem
    assert isinstance(raw, str)
    value = raw.strip()
    if not value:
        return None, _error(field, "Enter an email address.", REQUIRED)
    if len(value) > MAX_EMAIL_LENGTH:
        return None, _error(
            field, f"Use an email address of at most {MAX_EMAIL_LENGTH} characters.", TOO_LONG
        )
    try:
        checked = _check_email(
            value,
            check_deliverability=False,
            allow_domain_literal=False,
            allow_quoted_local=False,
            strict=True,  # also the RFC 5321 limit of 64 characters before the @
        )
    except EmailNotValidError as exc:
        # email-validator's messages are written for the person who typed the address.
        return None, _error(field, f"This is not a valid email address. {exc}", INVALID_EMAIL)
    domain = checked.ascii_domain
    if "." not in domain:
        return None, _error(
            field, "The part after the @-sign must be a full domain name.", INVALID_EMAIL
        )
    if _is_ip_address(domain):
        return None, _error(
            field,
            "The part after the @-sign must be a domain name, not an IP address.",
            INVALID_EMAIL,
        )
    normalized = checked.normalized.lower()
    if len(normalized) > MAX_EMAIL_LENGTH:
        return None, _error(
            field, f"Use an email address of at most {MAX_EMAIL_LENGTH} characters.", TOO_LONG
        )
    return normalized, []


def normalize_email(raw: object) -> str:
    """The stored, comparable form of an email address.

    Raises:
        ValidationError: with the field errors of :func:`validate_email`.
    """
    normalized, errors = validate_email(raw)
    if normalized is None:
        raise ValidationError(errors)
    return normalized


def _is_ip_address(domain: str) -> bool:
    try:
        ipaddress.ip_address(domain.strip("[]").removeprefix("IPv6:"))
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------- names


def _is_disallowed_in_name(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _ALLOWED_FORMAT_CHARS
    return category in {"Cc", "Cs"}


def validate_name(raw: object, field: str) -> tuple[str | None, list[FieldError]]:
    """Check a person's name; return ``(cleaned, [])`` or ``(None, errors)``.

    Cleaning: trimmed, NFC-normalised, inner whitespace runs collapsed to one
    space. 1-100 characters; control and invisible format characters refused.
    """
    if (problem := _not_text(raw, field, "a name")) is not None:
        return None, problem
    assert isinstance(raw, str)
    value = unicodedata.normalize("NFC", raw.strip())
    if any(_is_disallowed_in_name(ch) for ch in value):
        return None, _error(
            field, "The name contains characters that are not allowed.", INVALID_CHARACTERS
        )
    value = _WHITESPACE_RUN.sub(" ", value)
    if not value:
        return None, _error(field, "Enter a name.", REQUIRED)
    if len(value) > MAX_NAME_LENGTH:
        return None, _error(field, f"Use at most {MAX_NAME_LENGTH} characters.", TOO_LONG)
    return value, []


# ------------------------------------------------------------------ passwords


def check_password_policy(
    password: object,
    *,
    settings: Settings,
    user_inputs: Sequence[str],
    field: str = "password",
) -> list[FieldError]:
    """The problems with a new password (empty when it is acceptable).

    Length is counted in characters (code points), not bytes. Control characters
    (NUL included) are refused. Strength is zxcvbn's score with the user's own
    email, its local part and names as context (``user_inputs``; pieces and
    combinations of them are added here).

    zxcvbn is CPU-bound and keeps module-global state, so call this from one
    thread (the event loop is fine: the work is capped, see ZXCVBN_COST_BUDGET).
    """
    if (problem := _not_text(password, field, "a password")) is not None:
        return problem
    assert isinstance(password, str)
    if not password:
        return _error(field, "Enter a password.", REQUIRED)
    if len(password) < settings.password_min_length:
        return _error(field, f"Use at least {settings.password_min_length} characters.", TOO_SHORT)
    if len(password) > settings.password_max_length:
        return _error(field, f"Use at most {settings.password_max_length} characters.", TOO_LONG)
    if any(unicodedata.category(ch) == "Cc" for ch in password):
        return _error(
            field,
            "The password contains a control character (such as a tab, line break or NUL), "
            "which is not allowed.",
            INVALID_CHARACTERS,
        )
    if settings.password_min_strength <= 0:
        return []
    sample = _zxcvbn_sample(password)
    result: dict[str, Any] = zxcvbn(
        sample, user_inputs=_expand_user_inputs(user_inputs), max_length=len(sample)
    )
    if int(result["score"]) >= settings.password_min_strength:
        return []
    feedback: dict[str, Any] = result.get("feedback") or {}
    hints = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    message = " ".join(
        ["This password is too easy to guess.", *(str(h).strip() for h in hints if h)]
    )
    return _error(field, message, TOO_WEAK)


def _l33t_groups() -> list[tuple[frozenset[str], dict[frozenset[str], int]]]:
    """zxcvbn's l33t characters in groups that share no character between their
    letters ("1" stands for i or l), each with the number of substitution tables
    zxcvbn enumerates for every subset of the group present in a password. The
    total for a password is the product over the groups (checked in the tests)."""
    groups: list[frozenset[str]] = []
    for subs in L33T_TABLE.values():
        group = frozenset(subs)
        for other in [g for g in groups if g & group]:
            groups.remove(other)
            group |= other
        groups.append(group)
    return [
        (
            group,
            {
                frozenset(chars): len(
                    enumerate_l33t_subs(relevant_l33t_subtable("".join(chars), L33T_TABLE))
                )
                for size in range(len(group) + 1)
                for chars in combinations(sorted(group), size)
            },
        )
        for group in groups
    ]


_L33T_GROUPS = _l33t_groups()
_L33T_CHARS = frozenset().union(*(group for group, _ in _L33T_GROUPS))


def _l33t_table_count(present: frozenset[str]) -> int:
    return math.prod(counts[group & present] for group, counts in _L33T_GROUPS)


def _zxcvbn_cost(length: int, l33t_tables: int) -> int:
    return (l33t_tables + 3) * length**2 + length**3 // 8


def _zxcvbn_sample(password: str) -> str:
    """The longest prefix (at most ZXCVBN_MAX_CHARS) within ZXCVBN_COST_BUDGET."""
    present: frozenset[str] = frozenset()
    tables = 1
    for length, ch in enumerate(password[:ZXCVBN_MAX_CHARS], start=1):
        if ch in _L33T_CHARS and ch not in present:
            present |= {ch}
            tables = _l33t_table_count(present)
        if _zxcvbn_cost(length, tables) > ZXCVBN_COST_BUDGET:
            return password[: length - 1]
    return password[:ZXCVBN_MAX_CHARS]


def _expand_user_inputs(user_inputs: Sequence[str]) -> list[str]:
    """The context words: each input lower-cased, an email's local part, the
    pieces of each ("alice.wonder" -> "alicewonder", "alice", "wonder") and pairs
    of the inputs that are not emails run together."""
    words: list[str] = []
    names: list[str] = []
    for item in user_inputs:
        if not isinstance(item, str):
            continue
        value = item.strip().lower()[:ZXCVBN_MAX_CHARS]
        if not value:
            continue
        words.append(value)
        local = value.split("@", 1)[0] if "@" in value else value
        if "@" not in value:
            names.append(local)
        pieces = [p for p in _NON_ALNUM.split(local) if p]
        words.extend([local, "".join(pieces), *pieces])
    # "Alice" and "Wonderly" also make "alicewonderly" and "wonderlyalice".
    compact = [_NON_ALNUM.sub("", name) for name in names[:4]]
    words.extend(a + b for a, b in permutations(compact, 2))
    unique = dict.fromkeys(w for w in words if len(w) >= _USER_INPUT_MIN_LENGTH)
    return list(unique)[:_USER_INPUT_MAX]
