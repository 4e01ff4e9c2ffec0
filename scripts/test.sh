#!/usr/bin/env bash
# Run the whole check: bootstrap, lint (ruff, format check, mypy), then pytest.
# The pytest session fixtures start FerretDB and Redis on free ports themselves.
#   SKIP_LINT=1          skip ruff and mypy
#   MONGODB_URL=...      run the tests against that MongoDB instead of FerretDB
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

echo "test: pytest"
exec uv run --frozen pytest --cov --cov-report=term-missing:skip-covered --cov-fail-under=90 "$@"
