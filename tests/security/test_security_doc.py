"""SECURITY.md cannot rot: every ``path::test`` it names is a test function in that file,
and every attack module of this suite is named there at least once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "SECURITY.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def references() -> list[tuple[str, str]]:
    return REFERENCE.findall(DOC.read_text(encoding="utf-8"))


def functions_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_reference_is_an_existing_test() -> None:
    found = references()
    assert len(found) >= 60, "the mapping lost most of its references"
    missing = []
    for path, name in found:
        file = ROOT / path
        if not file.is_file() or name not in functions_in(file):
            missing.append(f"{path}::{name}")
    assert not missing, f"SECURITY.md names tests that do not exist: {missing}"


def test_every_attack_module_is_mapped() -> None:
    named = {path for path, _ in references()}
    here = Path(__file__).resolve().parent
    modules = {
        f"tests/security/{p.name}" for p in here.glob("test_*.py") if p.name != Path(__file__).name
    }
    assert modules <= named, f"not in SECURITY.md: {sorted(modules - named)}"


def test_readme_links_the_policy() -> None:
    assert "(SECURITY.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
