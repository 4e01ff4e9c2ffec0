#!/usr/bin/env bash
# Run the whole check: bootstrap, lint (ruff, format check, mypy), then pytest twice, one
# leg after the other: on FerretDB (with coverage) and on SecantusDB, so both the FerretDB
# workarounds and the plain-MongoDB paths are tested (domain/core/database_flavour.py).
# The pytest session fixtures start FerretDB or SecantusDB, and Redis, on free ports.
#   SKIP_LINT=1          skip ruff and mypy
#   SECOND_LEG=0         skip the SecantusDB leg
#   MONGODB_URL=...      run the tests (one leg) against that MongoDB instead
#   extra arguments      are passed to pytest (e.g. scripts/test.sh -k login -x)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BOOTSTRAP_BROWSER=1 bash scripts/bootstrap.sh
# bootstrap may have just installed uv into the Python user base (~/.local/bin).
if ! command -v uv >/dev/null 2>&1; then
    PATH="$(python3 -m site --user-base)/bin:$HOME/.local/bin:$PATH"
    export PATH
fi

if [ "${SKIP_LINT:-0}" != "1" ]; then
    echo "test: ruff check"
    uv run --frozen ruff check .
    echo "test: ruff format --check"
    uv run --frozen ruff format --check .
    echo "test: mypy"
    uv run --frozen mypy
fi

if [ -n "${MONGODB_URL:-}" ] || [ "${SECOND_LEG:-1}" = "0" ]; then
    echo "test: pytest"
    exec uv run --frozen pytest --cov --cov-report=term-missing:skip-covered --cov-fail-under=90 "$@"
fi

# The second leg leaves out what touches no database (client conformance, codegen, the
# GraphiQL browser test) and the reliability suite, which starts its own FerretDB
# processes. It runs after the first, not beside it: on two cores the legs would slow
# each other's timing-sensitive tests (enumeration timing, event-loop stalls, process
# faults) into flakes, and the two together stay well inside CI's time.
echo "test: pytest on FerretDB"
first_status=0
uv run --frozen pytest --cov --cov-report=term-missing:skip-covered --cov-fail-under=90 "$@" \
    || first_status=$?

echo "test: pytest on SecantusDB (the plain MongoDB path of the database seam)"
second_status=0
GATEHOUSE_TEST_MONGO=secantusdb uv run --frozen pytest -p no:cacheprovider \
    --ignore=tests/browser --ignore=tests/clients --ignore=tests/codegen \
    --ignore=tests/reliability "$@" \
    || second_status=$?
# 5: the arguments selected nothing the second leg runs (a client test, say).
if [ "$second_status" -eq 5 ]; then
    second_status=0
fi
echo "test: FerretDB leg exit $first_status, SecantusDB leg exit $second_status"
if [ "$first_status" -ne 0 ]; then
    exit "$first_status"
fi
exit "$second_status"
