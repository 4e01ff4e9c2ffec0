"""The development signing key, generated once under ``var/keys/`` outside production.

It signs access tokens when no key is configured (domain/tokens/keys.py) and seeds
the key that seals secrets at rest (domain/core/sealing.py), so it lives on the
ground floor where both can reach it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

DEV_KEY_FILE = Path("keys") / "dev-signing-key.pem"


def _write_new_dev_key(path: Path) -> None:
    """Create the key file atomically with mode 0600; an existing file is kept."""
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dev-key-")  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails if the name exists, so when two processes start at once
        # both end up using the key that won (os.replace would let each keep its own).
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def dev_key_pem(var_dir: Path) -> str:
    """The development signing key: generated on first use, then reused."""
    path = var_dir / DEV_KEY_FILE
    if not path.exists():
        _write_new_dev_key(path)
    return path.read_text()
