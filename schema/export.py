"""Write the SDL to ``schema.graphql`` (``make schema``); ``--check`` fails if it is stale."""

from __future__ import annotations

import sys
from pathlib import Path

from graphql import build_schema as build_schema_from_sdl
from graphql import find_breaking_changes

from domain.core.settings import ROOT_DIR, Settings
from schema.schema import build_schema

SDL_PATH = ROOT_DIR / "schema.graphql"
# The last released contract; breaking changes against it must be acknowledged.
BASELINE_PATH = ROOT_DIR / "schema.baseline.graphql"
ACKNOWLEDGED_PATH = ROOT_DIR / "schema.breaking-acknowledged.txt"


def breaking_changes(old_sdl: str, new_sdl: str) -> list[str]:
    """graphql-core's breaking-change finder, as "TYPE: description" lines."""
    changes = find_breaking_changes(build_schema_from_sdl(old_sdl), build_schema_from_sdl(new_sdl))
    return [f"{change.type.name}: {change.description}" for change in changes]


def unacknowledged_breaking_changes() -> list[str]:
    acknowledged = set()
    if ACKNOWLEDGED_PATH.exists():
        acknowledged = {
            line.strip()
            for line in ACKNOWLEDGED_PATH.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        }
    found = breaking_changes(BASELINE_PATH.read_text(), current_sdl())
    return [change for change in found if change not in acknowledged]


def current_sdl() -> str:
    # Development settings: the contract does not depend on environment switches.
    settings = Settings(_env_file=None, environment="development")
    return build_schema(settings).as_str().rstrip() + "\n"


def main(argv: list[str]) -> int:
    sdl = current_sdl()
    path = Path(SDL_PATH)
    if "--release" in argv:
        # Start a new contract: what is current becomes the baseline.
        BASELINE_PATH.write_text(sdl)
        ACKNOWLEDGED_PATH.write_text("# breaking changes acknowledged since the baseline\n")
        print(f"wrote {BASELINE_PATH}")
        return 0
    if "--check" in argv:
        if not path.exists() or path.read_text() != sdl:
            print("schema.graphql is out of date: run `make schema`", file=sys.stderr)
            return 1
        return 0
    path.write_text(sdl)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
