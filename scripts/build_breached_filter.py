"""Compile a breached-password list into the Bloom filter the server loads at start-up.

    uv run python scripts/build_breached_filter.py INPUT OUTPUT [--false-positive-rate 1e-6]
        [--format auto|sha1|plain]

INPUT has one entry a line: a plain password, or a SHA-1 as 40 hex digits with an
optional ``:COUNT`` (a Have I Been Pwned range or full download). Blank lines and, in
``auto``, lines starting with ``#`` are skipped. OUTPUT is written whole or not at all;
point GATEHOUSE_BREACHED_PASSWORD_LIST_PATH at it (or put it at
``<var_dir>/breached-passwords.bloom``) and restart the server.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.breached.bloom_list import (
    DEFAULT_FALSE_POSITIVE_RATE,
    BreachedList,
    LineFormat,
    build_from_file,
    save,
)


def compile_list(
    source: Path,
    target: Path,
    *,
    false_positive_rate: float = DEFAULT_FALSE_POSITIVE_RATE,
    line_format: LineFormat = "auto",
) -> BreachedList:
    """Build the filter of ``source`` and save it at ``target`` (what the CLI does)."""
    built = build_from_file(
        source, false_positive_rate=false_positive_rate, line_format=line_format
    )
    save(built, target)
    return built


def _rate(value: str) -> float:
    rate = float(value)
    if not 0 < rate < 1:
        raise argparse.ArgumentTypeError("the false-positive rate must be between 0 and 1")
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path, help="one password or SHA-1[:COUNT] a line")
    parser.add_argument("output", type=Path, help="the filter file to write")
    parser.add_argument(
        "--false-positive-rate",
        type=_rate,
        default=DEFAULT_FALSE_POSITIVE_RATE,
        help="chance that a password never listed is taken for a listed one "
        f"(default {DEFAULT_FALSE_POSITIVE_RATE:g})",
    )
    parser.add_argument("--format", choices=["auto", "sha1", "plain"], default="auto")
    args = parser.parse_args(argv)
    if not args.input.is_file():
        parser.error(f"{args.input} is not a file")
    started = time.perf_counter()
    built = compile_list(
        args.input,
        args.output,
        false_positive_rate=args.false_positive_rate,
        line_format=cast(LineFormat, args.format),
    )
    seconds = time.perf_counter() - started
    print(
        f"{built.entries} entries -> {args.output} ({built.size_bytes / 1e6:.2f} MB, "
        f"false-positive rate {args.false_positive_rate:g}) in {seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
