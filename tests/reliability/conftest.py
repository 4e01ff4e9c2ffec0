"""Reliability suite: a private deployment per package, and a figures table in the CI log.

The table is printed by ``pytest_terminal_summary``, so it shows in the log of
``make test`` (which runs pytest with output capture on) as well as with ``-s``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.cluster import Cluster

REPORT: list[str] = []


def report(line: str) -> None:
    REPORT.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("reliability figures")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module", autouse=True)
def _fresh_redis() -> None:
    """These tests run their own Redis; the session one is neither needed nor started."""


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """FerretDB, Redis (append-only), two API processes, a worker and the scheduler."""
    deployment = Cluster(Path(tmp_path_factory.mktemp("reliability")))
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.stop()
