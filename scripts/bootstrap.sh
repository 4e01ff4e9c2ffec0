#!/usr/bin/env bash
# One-time (and idempotent) set-up of everything Gatehouse needs to run and test locally:
#   - uv (Python package manager) and the locked virtualenv (.venv, with the dev group)
#   - a redis-server binary (from Debian apt if missing)
#   - FerretDB v1.24.2 built from source into .cache/ferretdb/bin/ferretdb
# A second run only checks and takes a few seconds.
#
# Environment:
#   MONGODB_URL=...    tests run against that real MongoDB: skip the FerretDB build
#   FORCE_FERRETDB=1   build FerretDB even when MONGODB_URL is set
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FERRETDB_VERSION="v1.24.2"
FERRETDB_MODULE="github.com/FerretDB/FerretDB"
FERRETDB_DIR="$ROOT/.cache/ferretdb"
FERRETDB_BIN="$FERRETDB_DIR/bin/ferretdb"

say() { printf 'bootstrap: %s\n' "$*"; }
die() {
    printf 'bootstrap: ERROR: %s\n' "$*" >&2
    exit 1
}

# Run a command as root (directly if we are root, else through sudo).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

add_user_bin_to_path() {
    local base
    base="$(python3 -m site --user-base 2>/dev/null || printf '%s' "$HOME/.local")"
    case ":$PATH:" in
        *":$base/bin:"*) ;;
        *) export PATH="$base/bin:$PATH" ;;
    esac
    case ":$PATH:" in
        *":$HOME/.local/bin:"*) ;;
        *) export PATH="$HOME/.local/bin:$PATH" ;;
    esac
}

# ---------------------------------------------------------------------------- uv
ensure_uv() {
    add_user_bin_to_path
    if command -v uv >/dev/null 2>&1; then
        return
    fi
    say "installing uv with pip (--user)"
    command -v python3 >/dev/null 2>&1 || die "python3 (>= 3.11) is required"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        say "pip missing: installing python3-pip with apt"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
    fi
    # Inside a virtualenv --user is refused; on Debian's system Python (PEP 668) a
    # --user install needs --break-system-packages (it only touches ~/.local).
    local log attempt
    log="$(mktemp)"
    for attempt in "--user" "--user --break-system-packages" ""; do
        # shellcheck disable=SC2086 # $attempt is a list of options
        if PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet $attempt uv >>"$log" 2>&1; then
            break
        fi
        attempt="failed"
    done
    if [ "$attempt" = "failed" ]; then
        cat "$log" >&2
        rm -f "$log"
        die "could not install uv with pip"
    fi
    rm -f "$log"
    add_user_bin_to_path
    hash -r
    command -v uv >/dev/null 2>&1 || die "uv installed but not found on PATH ($PATH)"
}

# ---------------------------------------------------------------------------- python deps
sync_python() {
    # --frozen: install exactly uv.lock, never re-resolve. Creates .venv with the dev group.
    uv sync --frozen --quiet
    say "python deps synced ($(.venv/bin/python --version 2>&1), $(uv --version))"
}

# ---------------------------------------------------------------------------- redis
ensure_redis() {
    if ! command -v redis-server >/dev/null 2>&1; then
        say "installing redis-server with apt"
        # If the package's post-install starts a system redis on 6379, that is fine:
        # Gatehouse starts its own instances on its own ports.
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
        hash -r
    fi
    command -v redis-server >/dev/null 2>&1 || die "redis-server still not found after apt-get"
    say "redis-server ok ($(redis-server --version | awk '{sub(/^v=/, "", $3); print $3}'))"
}

# The browser test of GraphiQL drives Debian's chromium (no browser download of its own).
# Only for the test command (BOOTSTRAP_BROWSER=1), and never fatal: without it that one
# test is skipped with a message.
ensure_chromium() {
    [ "${BOOTSTRAP_BROWSER:-0}" = "1" ] || return 0
    if ! command -v chromium >/dev/null 2>&1; then
        say "installing chromium with apt (for the GraphiQL browser test)"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
            || say "chromium could not be installed; the browser test will be skipped"
        hash -r
    fi
    command -v chromium >/dev/null 2>&1 && say "chromium ok"
    return 0
}

# ---------------------------------------------------------------------------- FerretDB
# True when $1 is an executable FerretDB reporting the wanted version.
reports_version() {
    [ -x "$1" ] || return 1
    local out
    out="$("$1" --version 2>/dev/null)" || return 1
    [[ "$out" == *"version: $FERRETDB_VERSION"* ]]
}

ferretdb_ok() { reports_version "$FERRETDB_BIN"; }

ensure_go() {
    if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
        export PATH="/usr/local/go/bin:$PATH"
    fi
    command -v go >/dev/null 2>&1 || die "Go >= 1.24 is required to build FerretDB (not found; expected /usr/local/go/bin/go)"
}

build_ferretdb() {
    ensure_go
    say "building FerretDB $FERRETDB_VERSION with $(go env GOVERSION) (first run only)"
    local build="$FERRETDB_DIR/build"
    local tmp="$FERRETDB_DIR/bin/ferretdb.tmp.$$"
    rm -rf "$build"
    mkdir -p "$build" "$FERRETDB_DIR/bin"
    (
        cd "$build"
        printf 'module local/ferretbuild\n\ngo 1.24\n' >go.mod
        go get -tool "$FERRETDB_MODULE/cmd/ferretdb@$FERRETDB_VERSION" 2>get.log || {
            cat get.log >&2
            die "go get of FerretDB $FERRETDB_VERSION failed"
        }
        # FerretDB panics at start-up unless build/version/version.txt is embedded (it is generated
        # by `task gen-version` from git and absent from the module zip). Build from a writable copy
        # of the module source with that file written, wired in through a replace directive.
        src="$(go list -m -f '{{.Dir}}' "$FERRETDB_MODULE")"
        [[ -n "$src" && -d "$src" ]] || die "FerretDB module source not found"
        cp -R "$src" src
        chmod -R u+w src
        printf '%s\n' "$FERRETDB_VERSION" >src/build/version/version.txt
        printf 'gatehouse-bootstrap\n' >src/build/version/package.txt
        go mod edit -replace "$FERRETDB_MODULE=./src"
        if ! CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$tmp" "$FERRETDB_MODULE/cmd/ferretdb"; then
            say "plain build failed; retrying with -ldflags=-checklinkname=0"
            CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags=-checklinkname=0 -o "$tmp" \
                "$FERRETDB_MODULE/cmd/ferretdb"
        fi
    )
    reports_version "$tmp" || {
        rm -f "$tmp"
        die "built FerretDB does not report $FERRETDB_VERSION"
    }
    mv -f "$tmp" "$FERRETDB_BIN"
    rm -rf "$build"
}

ensure_ferretdb() {
    if [ -n "${MONGODB_URL:-}" ] && [ "${FORCE_FERRETDB:-0}" != "1" ]; then
        say "MONGODB_URL is set: skipping FerretDB (set FORCE_FERRETDB=1 to build it anyway)"
        return
    fi
    if ! ferretdb_ok; then
        mkdir -p "$FERRETDB_DIR"
        # Serialise concurrent bootstraps (e.g. `make run` and `make test` started together).
        if command -v flock >/dev/null 2>&1; then
            exec 9>"$FERRETDB_DIR/.lock"
            flock 9
        fi
        ferretdb_ok || build_ferretdb
    fi
    say "ferretdb $FERRETDB_VERSION ok (${FERRETDB_BIN#"$ROOT"/})"
}

ensure_uv
sync_python
ensure_redis
ensure_chromium
ensure_ferretdb
say "done"
