"""The results table (markdown): ceilings, peers side by side, scale, memory, targets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from harness.wrk import Result

SYSTEMS = ("Gatehouse", "fastapi-users", "strawberry-django-auth", "Keycloak")
SCENARIOS = (
    "trivial query",
    "me",
    "login",
    "refresh",
    "refresh x4 concurrent",
    "register",
    "admin users page",
    "password login (loadgen)",
    "passkey login",
    "token: authorization_code",
    "token: client_credentials",
    "introspection",
)


@dataclass
class Report:
    header: list[str] = field(default_factory=list)
    ceilings: dict[str, str] = field(default_factory=dict)
    # (system, scenario) -> Result, or a reason it is n/a
    peers: dict[tuple[str, str], Result | str] = field(default_factory=dict)
    peer_level: str = ""
    admin_level: str = ""
    # (level label, scenario) -> Result
    scale: dict[tuple[str, str], Result] = field(default_factory=dict)
    rss: list[tuple[str, str, str]] = field(default_factory=list)
    # Per system in the peers table, KiB per server process: before any load, and the
    # largest seen while its scenarios ran (uvicorn workers; Keycloak's JVM).
    peer_rss_rest: dict[str, list[int]] = field(default_factory=dict)
    peer_rss_peak: dict[str, dict[int, int]] = field(default_factory=dict)
    targets: list[tuple[str, str, str, bool | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: list[tuple[str, float]] = field(default_factory=list)


def _fmt(x: float, digits: int = 1) -> str:
    return "—" if math.isnan(x) else f"{x:,.{digits}f}"


def _cell(value: Result | str | None) -> list[str]:
    if value is None:
        return ["—"] * 4
    if isinstance(value, str):
        return ["n/a", "", "", ""]
    return [_fmt(value.rps), _fmt(value.p50_ms, 2), _fmt(value.p99_ms, 2), value.error_text]


def _ratio(a: Result | str | None, b: Result | str | None) -> str:
    if isinstance(a, Result) and isinstance(b, Result) and b.rps > 0:
        return f"{a.rps / b.rps:.2f}x"
    return "n/a"


def _mib(values: list[int]) -> str:
    return ", ".join(f"{v / 1024:.0f}" for v in sorted(values)) if values else "—"


def _rss_rows(report: Report, width: int) -> list[str]:
    """RSS beside each system's figures: one MiB value per server process."""
    rows = []
    for what, values in (
        ("RSS MiB at rest", {s: report.peer_rss_rest.get(s, []) for s in SYSTEMS}),
        (
            "RSS MiB, peak under load",
            {s: list(report.peer_rss_peak.get(s, {}).values()) for s in SYSTEMS},
        ),
    ):
        row = [what]
        for system in SYSTEMS:
            row += [_mib(values[system]), "", "", ""]
        row += [""] * (width - len(row))
        rows.append("| " + " | ".join(row) + " |")
    return rows


def render(report: Report) -> str:
    out = ["# Gatehouse peer benchmark", "", *report.header, ""]
    out += ["## Ceilings (same run)", "", "| ceiling | value |", "| --- | --- |"]
    out += [f"| {k} | {v} |" for k, v in report.ceilings.items()] + [""]

    out += [f"## Peers at {report.peer_level} users", ""]
    head = ["scenario"]
    for system in SYSTEMS:
        head += [f"{system} req/s", "p50 ms", "p99 ms", "errors"]
    head += [f"GH/{system}" for system in SYSTEMS[1:]]
    out += ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for scenario in SCENARIOS:
        row = [scenario]
        for system in SYSTEMS:
            row += _cell(report.peers.get((system, scenario)))
        gh = report.peers.get(("Gatehouse", scenario))
        row += [_ratio(gh, report.peers.get((s, scenario))) for s in SYSTEMS[1:]]
        out.append("| " + " | ".join(row) + " |")
    out += _rss_rows(report, len(head))
    out.append("")
    reasons = [
        f"- {system} `{scenario}` n/a: {value}"
        for (system, scenario), value in report.peers.items()
        if isinstance(value, str)
    ]
    if report.admin_level:
        reasons.append(f"- Gatehouse `admin users page` is measured at {report.admin_level} users.")
    if report.peer_rss_rest:
        reasons.append(
            "- RSS: one value per server process (uvicorn workers; Keycloak's one JVM, its"
            " H2 database inside; strawberry-django-auth's SQLite is in its workers too);"
            " FerretDB and Redis (Gatehouse's and fastapi-users' stores) and Gatehouse's"
            " email worker are not counted."
        )
    out += [*reasons, ""]

    if report.scale:
        out += [
            "## Gatehouse at scale",
            "",
            "| users | scenario | req/s | p50 ms | p99 ms | errors |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for (level, scenario), r in report.scale.items():
            out.append(f"| {level} | {scenario} | {' | '.join(_cell(r))} |")
        out.append("")
    if report.rss:
        out += [
            "## Memory per API worker (VmRSS)",
            "",
            "| when | workers | RSS MiB each |",
            "| --- | --- | --- |",
        ]
        out += [f"| {a} | {b} | {c} |" for a, b, c in report.rss] + [""]
    out += [
        "## Targets",
        "",
        "| target | measured | needed | result |",
        "| --- | --- | --- | --- |",
    ]
    for name, measured, needed, ok in report.targets:
        verdict = "n/a" if ok is None else ("pass" if ok else "**miss**")
        out.append(f"| {name} | {measured} | {needed} | {verdict} |")
    out += ["", "## Notes", ""] + [f"- {n}" for n in report.notes] + [""]
    out += ["## Phase timings", "", "| phase | seconds |", "| --- | --- |"]
    out += [f"| {name} | {seconds:.1f} |" for name, seconds in report.timings] + [""]
    return "\n".join(out)
