"""The audit actor is passed, never read from the request's context: an event names
who the caller said acted, from where, whatever the context variables hold; and no
business code in domain/ reads those variables (only logging does)."""

from __future__ import annotations

import ast
from pathlib import Path

from domain.audit.documents import AuditAction, AuditEvent
from domain.audit.service import AuditService
from domain.core.actor import Actor
from domain.core.clock import FrozenClock
from domain.core.request_context import (
    ClientInfo,
    client_info_var,
    request_id_var,
    user_id_var,
)

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
CONTEXT_NAMES = {"user_id_var", "client_info_var", "request_id_var", "current_request_id"}
# Where the request's context variables may be read: they are defined in one module and
# bound to log lines in another; the outbox stamps the request id on a mail job for
# tracing (a correlation field, like a log line's, not who acted).
ALLOWED = {
    "core/request_context.py": CONTEXT_NAMES,
    "core/logging.py": CONTEXT_NAMES,
    "email/outbox.py": {"current_request_id"},
}


def _context_reads(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in CONTEXT_NAMES:
            found.add(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in CONTEXT_NAMES:
            found.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            found.update(alias.name for alias in node.names if alias.name in CONTEXT_NAMES)
    return found


def test_no_business_code_reads_the_request_context() -> None:
    offenders = {}
    for path in sorted(DOMAIN.rglob("*.py")):
        relative = path.relative_to(DOMAIN).as_posix()
        reads = _context_reads(path) - ALLOWED.get(relative, set())
        if reads:
            offenders[relative] = sorted(reads)
    assert offenders == {}, f"pass an Actor instead of reading the request context: {offenders}"


async def test_an_event_names_the_actor_passed_outside_any_request(
    database: None, clock: FrozenClock
) -> None:
    audit = AuditService(clock)
    actor = Actor.anonymous("203.0.113.7", "pytest-agent/1.0", "req-explicit-0001").as_user(
        "user-explicit"
    )
    stored = await audit.record("user.login", AuditAction.LOGIN, actor=actor, target_id="t-1")
    assert stored is not None
    event = await AuditEvent.get(stored.id)
    assert event is not None
    assert (event.actor_id, event.actor_type) == ("user-explicit", "user")
    assert (event.ip, event.user_agent, event.request_id) == (
        "203.0.113.7",
        "pytest-agent/1.0",
        "req-explicit-0001",
    )


async def test_the_request_context_does_not_leak_into_an_event(
    database: None, clock: FrozenClock
) -> None:
    audit = AuditService(clock)
    tokens = (
        user_id_var.set("someone-else"),
        client_info_var.set(ClientInfo(ip="192.0.2.99", user_agent="decoy")),
        request_id_var.set("req-decoy-000000"),
    )
    try:
        stored = await audit.record(
            "webhook.delivery_failed",
            AuditAction.UPDATE,
            actor=Actor.system(),
            actor_type="system",
            target_id="endpoint-1",
        )
    finally:
        user_id_var.reset(tokens[0])
        client_info_var.reset(tokens[1])
        request_id_var.reset(tokens[2])
    assert stored is not None
    event = await AuditEvent.get(stored.id)
    assert event is not None
    assert (event.actor_id, event.actor_type) == (None, "system")
    assert (event.ip, event.user_agent, event.request_id) == ("", "", None)
