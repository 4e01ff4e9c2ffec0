"""GraphQL documents and fixtures' helpers shared by the privacy tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.core.settings import Settings

ERRORS = "... on UserError { code message }"
REQUEST_EXPORT = f"mutation {{ requestDataExport {{ __typename {ERRORS} }} }}"
EXPORT_USER = f"mutation($id: ID!) {{ exportUserData(id: $id) {{ __typename {ERRORS} }} }}"
DELETE_ME = (
    "mutation { deleteMyAccount { __typename "
    f"... on AccountDeletionScheduled {{ eraseAfter }} {ERRORS} }} }}"
)
CANCEL = (
    "mutation($token: String!) { cancelAccountDeletion(token: $token) { "
    f"__typename {ERRORS} }} }}"
)
DELETE_USER = f"mutation($id: ID!) {{ deleteUser(id: $id) {{ __typename {ERRORS} }} }}"
RESTORE_USER = f"mutation($id: ID!) {{ restoreUser(id: $id) {{ __typename {ERRORS} }} }}"


def answer(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


def export_files(settings: Settings) -> list[Path]:
    directory = settings.export_dir or settings.var_dir / "exports"
    return sorted(directory.glob("*.json")) if directory.is_dir() else []
