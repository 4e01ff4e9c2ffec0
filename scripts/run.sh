#!/usr/bin/env bash
# Run Gatehouse locally with its embedded defaults: FerretDB (SQLite under var/), a local
# Redis, the API (uvicorn) and a Dramatiq worker. Extra arguments go to scripts/dev_server.py.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
# bootstrap may have just installed uv into the Python user base (~/.local/bin).
if ! command -v uv >/dev/null 2>&1; then
    PATH="$(python3 -m site --user-base)/bin:$HOME/.local/bin:$PATH"
    export PATH
fi

exec uv run --frozen python scripts/dev_server.py "$@"
