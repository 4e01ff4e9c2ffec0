"""The verification recipe printed in the README works as printed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from domain.webhooks.signing import signature_header

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verifier() -> Callable[..., bool]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    (code,) = [b for b in blocks if "def verify_signature" in b]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the README snippet, under test
    verify: Callable[..., bool] = namespace["verify_signature"]
    return verify


def test_readme_recipe_accepts_ours_and_rejects_tampering() -> None:
    verify = readme_verifier()
    body = b'{"id":"e1","type":"user.registered","data":{}}'
    now = str(int(time.time()))
    header = signature_header(["new-secret", "old-secret"], now, body)
    assert verify("new-secret", header, now, body)
    assert verify("old-secret", header, now, body)
    assert not verify("other-secret", header, now, body)
    assert not verify("new-secret", header, now, body + b" ")
    old = str(int(time.time()) - 3600)
    assert not verify("new-secret", signature_header(["new-secret"], old, body), old, body)
