"""Structure of the production-like topology (compose.yaml and the Dockerfile).

No Docker engine is needed: the files are parsed and checked for the wiring the
deployment relies on (images, health checks, start order, volumes, environment).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"

SERVICES = {"mongo", "redis", "api", "worker", "mailpit"}
APP_SERVICES = ("api", "worker")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict)
    return found


def as_argv(value: str | list[Any]) -> list[str]:
    """A compose `command`/healthcheck `test` as an argv list (string or list form)."""
    if isinstance(value, str):
        return shlex.split(value)
    return [str(item) for item in value]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment:` in either mapping or `KEY=value` list form."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def healthcheck_command(service: dict[str, Any]) -> list[str]:
    check = service.get("healthcheck")
    assert check, "service has no healthcheck"
    assert not check.get("disable", False)
    argv = as_argv(check["test"])
    assert argv[0] in {"CMD", "CMD-SHELL"}, argv
    return argv[1:]


def image_tag(service: dict[str, Any]) -> tuple[str, str]:
    name, _, tag = str(service["image"]).partition(":")
    return name, tag


def named_volume_targets(service: dict[str, Any]) -> dict[str, str]:
    """Named volume -> mount target, from short (`name:/path`) or long syntax."""
    mounts: dict[str, str] = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            mounts[source] = rest.split(":", 1)[0]
        elif volume.get("type", "volume") == "volume":
            mounts[volume["source"]] = volume["target"]
    return mounts


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            instructions.append((keyword.upper(), args.strip()))
    return instructions


def test_all_services_declared(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= SERVICES


def test_mongo_is_mongodb_7_or_newer(services: dict[str, dict[str, Any]]) -> None:
    name, tag = image_tag(services["mongo"])
    assert name in {"mongo", "mongodb/mongodb-community-server"}
    major = re.match(r"(\d+)", tag)
    assert major, f"mongo image must pin a major version, got {tag!r}"
    assert int(major.group(1)) >= 7


def test_redis_is_7_with_append_only_file(services: dict[str, dict[str, Any]]) -> None:
    redis = services["redis"]
    name, tag = image_tag(redis)
    assert name == "redis"
    assert tag.split(".")[0].split("-")[0] == "7"
    argv = as_argv(redis["command"])
    assert "--appendonly" in argv
    assert argv[argv.index("--appendonly") + 1] == "yes"


def test_mongo_healthcheck_pings(services: dict[str, dict[str, Any]]) -> None:
    argv = healthcheck_command(services["mongo"])
    assert "mongosh" in argv[0]
    assert "ping" in " ".join(argv)


def test_redis_healthcheck_pings(services: dict[str, dict[str, Any]]) -> None:
    assert " ".join(healthcheck_command(services["redis"])).endswith("redis-cli ping")


def test_api_healthcheck_hits_livez(services: dict[str, dict[str, Any]]) -> None:
    command = " ".join(healthcheck_command(services["api"]))
    assert "urllib" in command
    assert "http://localhost:8000/livez" in command


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_waits_for_healthy_datastores(services: dict[str, dict[str, Any]], name: str) -> None:
    depends_on = services[name].get("depends_on")
    assert isinstance(depends_on, dict), "depends_on must use the long form with conditions"
    for store in ("mongo", "redis"):
        assert depends_on[store]["condition"] == "service_healthy"


def test_datastores_keep_data_in_named_volumes(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes") or {})
    mongo = named_volume_targets(services["mongo"])
    redis = named_volume_targets(services["redis"])
    assert "/data/db" in mongo.values()
    assert "/data" in redis.values()
    mongo_volume = next(source for source, target in mongo.items() if target == "/data/db")
    redis_volume = next(source for source, target in redis.items() if target == "/data")
    assert {mongo_volume, redis_volume} <= declared
    assert mongo_volume != redis_volume


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_environment_points_at_compose_services(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    env = environment(services[name])
    assert env["GATEHOUSE_ENVIRONMENT"] == "production"
    mongo_url = urlsplit(env["GATEHOUSE_MONGODB_URL"])
    assert mongo_url.scheme == "mongodb"
    assert mongo_url.hostname == "mongo"
    assert env["GATEHOUSE_MONGODB_DATABASE"]
    redis_url = urlsplit(env["GATEHOUSE_REDIS_URL"])
    assert redis_url.scheme == "redis"
    assert redis_url.hostname == "redis"
    assert env["GATEHOUSE_EMAIL_BACKEND"] == "smtp"
    assert env["GATEHOUSE_SMTP_HOST"] == "mailpit"
    assert env["GATEHOUSE_SMTP_PORT"] == "1025"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_env_file_is_optional(services: dict[str, dict[str, Any]], name: str) -> None:
    env_files = services[name]["env_file"]
    entries = [env_files] if isinstance(env_files, str | dict) else env_files
    production = [
        entry
        for entry in entries
        if isinstance(entry, dict) and Path(entry["path"]).name == ".env.production"
    ]
    assert production, "api/worker must read .env.production"
    assert all(entry.get("required") is False for entry in production)


def test_api_and_worker_share_the_built_image(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        build = services[name].get("build")
        context = build if isinstance(build, str) else (build or {}).get("context")
        assert context in {".", "./"}, f"{name} must build from the repository root"


def test_api_serves_with_uvicorn_and_stops_gracefully(
    services: dict[str, dict[str, Any]],
) -> None:
    api = services["api"]
    assert api["stop_grace_period"] == "30s"
    argv = as_argv(api["command"])
    assert "uvicorn" in argv
    assert "app:create_app" in argv
    assert "--factory" in argv
    assert argv[argv.index("--port") + 1] == "8000"
    timeout = int(argv[argv.index("--timeout-graceful-shutdown") + 1])
    assert timeout < 30, "uvicorn must finish shutting down inside stop_grace_period"


def test_worker_runs_dramatiq(services: dict[str, dict[str, Any]]) -> None:
    argv = as_argv(services["worker"]["command"])
    assert "dramatiq" in argv
    assert "workers.main" in argv
    assert "uvicorn" not in argv


def test_mailpit_catches_smtp(services: dict[str, dict[str, Any]]) -> None:
    mailpit = services["mailpit"]
    assert image_tag(mailpit)[0] == "axllent/mailpit"
    exposed = [str(port) for port in mailpit.get("expose", [])]
    published = [str(port) for port in mailpit.get("ports", [])]
    assert any(port.split(":")[-1].split("/")[0] == "1025" for port in exposed + published)
    assert any(port.split(":")[-1].split("/")[0] == "8025" for port in published)


def test_dockerfile_runs_uvicorn_factory() -> None:
    assert DOCKERFILE.is_file()
    instructions = dockerfile_instructions()
    base = next(args for keyword, args in instructions if keyword == "FROM")
    assert base.startswith("python:3.11")
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    cmd = [args for keyword, args in instructions if keyword == "CMD"]
    assert cmd, "Dockerfile has no CMD"
    raw = cmd[-1]
    argv = json.loads(raw) if raw.startswith("[") else shlex.split(raw)
    assert "uvicorn" in argv
    assert "--factory" in argv
    assert "app:create_app" in argv
