"""The breached-password Bloom filter at 1M entries: build time, size, load and lookup.

Generates 1,000,000 random SHA-1 hashes in the Have I Been Pwned format
(``HASH:COUNT`` lines), compiles them with the CLI's own code
(scripts/build_breached_filter.py), loads the file the way the server does at start-up,
and times lookups of listed and unlisted passwords. The false-positive rate is measured
on 1,000,000 digests that were never added. Also the built-in list's start-up cost.

    uv run python bench/bloom.py [--entries 1000000] [--rates 1e-6,1e-3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.breached.bloom_list import load  # noqa: E402
from domain.breached.builtin import builtin_list  # noqa: E402
from scripts.build_breached_filter import compile_list  # noqa: E402

LOOKUPS = 200_000


def _per_lookup_us(check: object, items: list[object]) -> float:
    """Median over 5 rounds of the time per lookup, in microseconds."""
    contains = check.__contains__  # type: ignore[attr-defined]
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for item in items:
            contains(item)
        rounds.append((time.perf_counter() - started) / len(items) * 1e6)
    return statistics.median(rounds)


def run(entries: int, rate: float, folder: Path, source: Path) -> dict[str, str]:
    target = folder / f"list-{rate:g}.bloom"
    started = time.perf_counter()
    compile_list(source, target, false_positive_rate=rate)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    loaded = load(target)
    load_ms = (time.perf_counter() - started) * 1000
    with source.open("rb") as lines:
        listed = [bytes.fromhex(next(lines)[:40].decode()) for _ in range(LOOKUPS)]
    absent = [os.urandom(20) for _ in range(LOOKUPS)]
    digest_us = _per_lookup_us(loaded.bloom, listed + absent)
    passwords = [f"password-{i}" for i in range(LOOKUPS)]
    password_us = _per_lookup_us(loaded, passwords)  # SHA-1 of the password, then the lookup
    assert all(d in loaded.bloom for d in listed)
    trials = 1_000_000
    false_hits = sum(os.urandom(20) in loaded.bloom for _ in range(trials))
    return {
        "rate": f"{rate:g}",
        "entries": f"{loaded.entries:,}",
        "build": f"{build_s:.1f} s",
        "file": f"{target.stat().st_size / 1e6:.2f} MB",
        "bits/entry": f"{loaded.bloom.size_in_bits / entries:.1f}",
        "load": f"{load_ms:.0f} ms",
        "lookup (digest)": f"{digest_us:.2f} µs",
        "lookup (password)": f"{password_us:.2f} µs",
        "false positives": f"{false_hits}/{trials:,} ({false_hits / trials:.2g})",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rates", default="1e-6,1e-3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "pwned.txt"
        started = time.perf_counter()
        with source.open("w") as out:
            for i in range(args.entries):
                out.write(f"{os.urandom(20).hex().upper()}:{i % 1000 + 1}\n")
        print(f"generated {args.entries:,} hashes in {time.perf_counter() - started:.1f} s "
              f"({source.stat().st_size / 1e6:.0f} MB)")  # fmt: skip
        rows = [run(args.entries, float(r), folder, source) for r in args.rates.split(",")]
    started = time.perf_counter()
    builtin = builtin_list()
    builtin_ms = (time.perf_counter() - started) * 1000
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for row in rows:
        print("| " + " | ".join(row[c] for c in columns) + " |")
    print(
        f"\nbuilt-in list: {builtin.entries:,} entries compiled at start-up in "
        f"{builtin_ms:.0f} ms, {builtin.size_bytes / 1e3:.0f} KB"
    )


if __name__ == "__main__":
    main()
