"""Two-factor authentication: TOTP (RFC 6238) with single-use backup codes.

TOTP secrets are stored encrypted (``domain.core.secret_box.SecretBox``); backup codes only as
SHA-256 digests. Every exactly-once decision (a TOTP step, a backup code, a
confirmation) is a claim (``domain.core.claims.claim_once``), never a
read-modify-write, so it holds on MongoDB and FerretDB alike.
"""
