"""Write the SDL to ``schema.graphql`` (``make schema``); ``--check`` fails if it is stale."""

from __future__ import annotations

import sys
from pathlib import Path

from domain.core.settings import ROOT_DIR, Settings
from schema.schema import build_schema

SDL_PATH = ROOT_DIR / "schema.graphql"


def current_sdl() -> str:
    # Development settings: the contract does not depend on environment switches.
    settings = Settings(_env_file=None, environment="development")
    return build_schema(settings).as_str().rstrip() + "\n"


def main(argv: list[str]) -> int:
    sdl = current_sdl()
    path = Path(SDL_PATH)
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
