"""The key that seals secrets at rest (TOTP secrets, queued email context)."""

from __future__ import annotations

from domain.core.dev_key import dev_key_pem
from domain.core.secret_box import SecretBox
from domain.core.settings import Settings


def sealing_box(settings: Settings) -> SecretBox:
    """From ``GATEHOUSE_TOTP_ENCRYPTION_KEY``; outside production, derived from the signing keys.

    The API and the workers derive the same key from the same settings, so what one
    seals the other can open.
    """
    configured = settings.totp_encryption_key
    if configured is not None and configured.get_secret_value():
        return SecretBox.from_setting(configured.get_secret_value(), fallback_seed=b"unused")
    if settings.jwt_private_keys is not None and settings.jwt_private_keys.get_secret_value():
        seed = settings.jwt_private_keys.get_secret_value().encode()
    else:
        seed = dev_key_pem(settings.var_dir).encode()
    return SecretBox.from_setting(None, fallback_seed=seed)
