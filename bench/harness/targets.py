"""The targets table: what the lead and the issues ask of Gatehouse, computed from one run."""

from __future__ import annotations

from harness import scenarios, wrk
from harness.report import Report

# Gatehouse's refresh in the last full run before issue 16's rotation (bench/RESULTS.md,
# 2026-11-29 09:23 UTC): issue 16 asks for twice this.
REFRESH_BEFORE_ISSUE_16 = 218.2


def targets(
    report: Report, gh: dict[str, wrk.Result], bare: wrk.Result, hash_ceiling: float
) -> None:
    """The lead's targets; called after the peers and again after the scale levels."""
    report.targets.clear()

    def peer_ratio(peer: str, factor: float) -> None:
        other = report.peers.get((peer, "me"))
        if not isinstance(other, wrk.Result) or other.rps == 0:
            report.targets.append((f"`me` vs {peer} `me`", "not measured", f"≥ {factor}x", None))
            return
        ratio = gh["me"].rps / other.rps
        report.targets.append(
            (f"`me` vs {peer} `me`", f"{ratio:.2f}x", f"≥ {factor}x", ratio >= factor)
        )

    peer_ratio("fastapi-users", 1.2)
    peer_ratio("strawberry-django-auth", 2.0)
    keycloak_targets(report, gh)
    share = gh["login"].rps / hash_ceiling
    report.targets.append(("login vs hash-bound ceiling", f"{share:.1%}", "≥ 85%", share >= 0.85))
    share = gh["refresh"].rps / bare.rps
    report.targets.append(("refresh vs bare route", f"{share:.1%}", "≥ 50%", share >= 0.5))
    refresh_targets(report, gh)
    share = gh["trivial query"].rps / bare.rps
    report.targets.append(("trivial query vs bare route", f"{share:.1%}", "≥ 60%", share >= 0.6))
    levels = [lv for lv, sc in report.scale if sc == "me"]
    low, high = levels[0], levels[-1]
    p_low, p_high = report.scale[(low, "me")].p99_ms, report.scale[(high, "me")].p99_ms
    if low == high:
        report.targets.append(("`me` p99 at 1M vs 1k", "one level only", "≤ +10%", None))
    else:
        growth = p_high / p_low - 1
        report.targets.append(
            (
                f"`me` p99 at {high} vs {low}",
                f"{p_high:.2f} vs {p_low:.2f} ms ({growth:+.0%})",
                "≤ +10%",
                growth <= 0.10,
            )
        )
    sign_in_targets(report, gh)
    errors = sum(r.errors for r in gh.values()) + sum(r.errors for r in report.scale.values())
    report.targets.append(("Gatehouse errors, all scenarios", str(errors), "0", errors == 0))


def refresh_targets(report: Report, gh: dict[str, wrk.Result]) -> None:
    """Issue 16's: refresh against the peer with refresh tokens and against itself before."""
    refresh = gh["refresh"]
    other = report.peers.get(("strawberry-django-auth", "refresh"))
    name = "refresh vs strawberry-django-auth refresh"
    if isinstance(other, wrk.Result) and other.rps > 0:
        ratio = refresh.rps / other.rps
        report.targets.append((name, f"{ratio:.2f}x", "≥ 3x", ratio >= 3))
    else:
        report.targets.append((name, "not measured", "≥ 3x", None))
    ratio = refresh.rps / REFRESH_BEFORE_ISSUE_16
    report.targets.append(
        (
            f"refresh vs Gatehouse's before issue 16 ({REFRESH_BEFORE_ISSUE_16:g} req/s)",
            f"{ratio:.2f}x ({refresh.rps:,.1f} req/s)",
            "≥ 2x",
            ratio >= 2,
        )
    )
    fanout = gh[f"refresh x{scenarios.FANOUT} concurrent"]
    report.targets.append(
        (
            f"refresh x{scenarios.FANOUT} concurrent: sessions lost",
            f"{fanout.lost} lost, {fanout.forks} forked, {fanout.errors} errors"
            f" in {fanout.requests:,} presentations",
            "0 lost",
            fanout.lost == 0 and fanout.requests > 0,
        )
    )


# Issue 17: against the server most teams would run instead; `me` against its userinfo.
KEYCLOAK_TARGETS = (
    ("login", "login vs Keycloak login"),
    ("refresh", "refresh vs Keycloak refresh"),
    ("me", "`me` vs Keycloak userinfo"),
)


def keycloak_targets(report: Report, gh: dict[str, wrk.Result]) -> None:
    for scenario, name in KEYCLOAK_TARGETS:
        other = report.peers.get(("Keycloak", scenario))
        if isinstance(other, wrk.Result) and other.rps > 0 and other.errors == 0:
            ratio = gh[scenario].rps / other.rps
            report.targets.append((name, f"{ratio:.2f}x", "≥ 2x", ratio >= 2))
            continue
        # No ratio against a run with errors: failed requests are answered faster.
        why = other if isinstance(other, str) else "not measured"
        if isinstance(other, wrk.Result):
            why = f"Keycloak errors: {other.error_text}"
        report.targets.append((name, why, "≥ 2x", None))


# Issue 18: a passkey sign-in involves no memory-hard hash. Issue 20: introspection is a
# resource server's per-request check, so at least as fast as `me`.
RATIO_TARGETS = (
    (scenarios.PASSKEY_LOGIN, scenarios.PASSWORD_LOADGEN, "passkey login vs password login"
     " (both through harness/loadgen.py)", 5.0),
    (scenarios.INTROSPECTION, "me", "introspection vs `me`", 1.0),
)  # fmt: skip


def sign_in_targets(report: Report, gh: dict[str, wrk.Result]) -> None:
    for scenario, baseline, name, factor in RATIO_TARGETS:
        mine, other = gh.get(scenario), gh.get(baseline)
        if mine is None or other is None or other.rps == 0:
            report.targets.append((name, "not measured", f"≥ {factor:g}x", None))
            continue
        ratio = mine.rps / other.rps
        measured = f"{ratio:.2f}x ({mine.rps:,.1f} vs {other.rps:,.1f} req/s)"
        report.targets.append((name, measured, f"≥ {factor:g}x", ratio >= factor))
