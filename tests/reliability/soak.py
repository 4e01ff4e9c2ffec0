"""The long soak, opt-in: ``make soak`` or ``python -m tests.reliability.soak --minutes 10``.

Starts the same private deployment as the reliability tests (FerretDB, Redis, API
processes, a worker, the scheduler, an SMTP sink, a webhook receiver) in a temporary
directory, runs the mixed workload for the given time, samples each API process's RSS
every ``--sample-seconds``, and prints requests, errors, p50/p99, the nothing-lost
accounting and the RSS trend. Exits 1 on any error, any lost write or duplicate
email, or RSS growing more than ``--max-growth`` between the middle and last thirds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # services.py, as tests/conftest.py does

from tests.reliability.cluster import Cluster  # noqa: E402
from tests.reliability.load import run_load  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument("--sample-seconds", type=float, default=30)
    parser.add_argument("--max-growth", type=float, default=0.10)
    return parser.parse_args(argv)


async def soak(args: argparse.Namespace, root: Path) -> bool:
    cluster = Cluster(root)
    try:
        await asyncio.to_thread(cluster.start, apis=args.apis)
        print(f"soak: {args.apis} API processes, {args.clients} clients, {args.minutes} min")
        result = await run_load(
            cluster,
            seconds=args.minutes * 60,
            clients=args.clients,
            sample_seconds=args.sample_seconds,
            prefix="soak",
        )
    finally:
        await asyncio.to_thread(cluster.stop)
    for line in result.lines("soak"):
        print(line)
    a = result.accounting
    ok = (
        result.figures.errors == 0
        and a.writes_lost == 0
        and a.duplicates == 0
        and a.revoked_accepted == 0
        and result.rss_growth() <= args.max_growth
    )
    print("soak:", "PASS" if ok else "FAIL")
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gatehouse-soak-") as root:
        return 0 if asyncio.run(soak(args, Path(root))) else 1


if __name__ == "__main__":
    sys.exit(main())
