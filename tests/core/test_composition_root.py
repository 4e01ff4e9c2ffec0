"""One composition root: domain/services.py ``build_services`` constructs every service,
and the API (app.py), the workers and the scheduler go through it rather than wiring
their own. Structural (``ast``, nothing imported) but for the last test, which builds
the worker's services on a loop without connecting to anything.
"""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path

import pytest

from domain.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSITION_ROOT = ROOT / "domain" / "services.py"
WIRING = ROOT / "domain" / "webhooks" / "wiring.py"
# Everything that runs domain code for the API, the workers or the scheduler.
CALLERS = ("app.py", "workers", "resolvers", "schema", "scripts")


def _called_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names


def _build_services_body() -> ast.FunctionDef:
    tree = ast.parse(COMPOSITION_ROOT.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "build_services":
            return node
    raise AssertionError("domain/services.py has no build_services")


def _constructed_in_root() -> set[str]:
    """Classes (capitalised calls) and ``build_*`` helpers the root calls, with what the
    webhook wiring it calls builds (the audit trail among them)."""
    called = _called_names(_build_services_body()) | _called_names(ast.parse(WIRING.read_text()))
    return {n for n in called if n[:1].isupper() or n.startswith("build_")} - {
        "Services",
        "Webhooks",
    }


def _caller_files() -> list[Path]:
    files: list[Path] = []
    for name in CALLERS:
        path = ROOT / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def test_the_root_builds_the_services_it_returns() -> None:
    constructed = _constructed_in_root()
    # A sample a reader would look for: if these move out, the root is no longer one.
    for name in ("SessionService", "MfaService", "AuditService", "EmailDelivery", "Outbox"):
        assert name in constructed
    assert "build_audit_and_webhooks" in constructed


def test_no_service_is_constructed_outside_the_root() -> None:
    constructed = _constructed_in_root()
    found: list[str] = []
    for path in _caller_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in constructed:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}(...)")
    assert not found, "built outside domain/services.py:\n" + "\n".join(found)


@pytest.mark.parametrize("path", ["app.py", "workers/resources.py"])
def test_api_and_workers_call_build_services(path: str) -> None:
    assert "build_services" in _called_names(ast.parse((ROOT / path).read_text()))


def test_the_scheduler_only_enqueues() -> None:
    """The scheduler runs no domain code: it enqueues actors, which run on the workers'
    services. Should it ever need a service, it goes through build_services too."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / "workers" / "scheduler.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    domain_imports = {m for m in imported if m.startswith("domain.")}
    assert domain_imports <= {"domain.core.logging", "domain.core.settings", "domain.services"}


def test_no_hook_is_attached_after_construction() -> None:
    hooks = re.compile(r"^(set_\w*hook\w*|add_listener)$")
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path in sorted((ROOT / "domain").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and hooks.match(node.name)
    ]
    assert not found, found


def test_a_worker_loop_builds_its_services_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's accessor returns the root's Services, one per event loop, and the
    webhook actors use that very slice (no second wiring)."""
    from domain.services import Services
    from workers import resources
    from workers.actors.webhooks import worker_webhooks

    monkeypatch.setattr(resources, "get_settings", lambda: settings)
    monkeypatch.setattr(resources, "_redis_by_loop", {})
    monkeypatch.setattr(resources, "_services_by_loop", {})

    async def on_one_loop() -> tuple[Services, Services, object]:
        first = resources.get_services()
        return first, resources.get_services(), worker_webhooks()

    # Both loops stay alive until the end: a closed loop's id can be reused by the next.
    loops = [asyncio.new_event_loop(), asyncio.new_event_loop()]
    try:
        first, again, webhooks = loops[0].run_until_complete(on_one_loop())
        other_loop, _, _ = loops[1].run_until_complete(on_one_loop())
    finally:
        for loop in loops:
            loop.close()
    assert isinstance(first, Services)
    assert again is first
    assert webhooks is first.webhooks
    assert other_loop is not first
