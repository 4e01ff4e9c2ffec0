"""Settings: typed parsing from the environment and refusal of unsafe production values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.core.settings import ROOT_DIR, Environment, Settings

SAFE_PRODUCTION = {
    "environment": "production",
    "jwt_private_keys": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
    "cors_origins": "https://app.example.com",
    "public_url": "https://auth.example.com",
    "totp_encryption_key": "x" * 43,
}


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_lists_come_from_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEHOUSE_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1")
    settings = make()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]


def test_invalid_proxy_network_is_refused() -> None:
    with pytest.raises(ValidationError):
        make(trusted_proxies="not-an-ip")


def test_safe_production_settings_start() -> None:
    settings = make(**SAFE_PRODUCTION)
    assert settings.environment is Environment.PRODUCTION
    assert settings.is_production


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"debug": True}, "GATEHOUSE_DEBUG"),
        ({"jwt_private_keys": None}, "GATEHOUSE_JWT_PRIVATE_KEYS"),
        ({"jwt_private_keys": ""}, "GATEHOUSE_JWT_PRIVATE_KEYS"),
        ({"cors_origins": "*"}, "wildcard"),
        ({"public_url": "http://auth.example.com"}, "https"),
    ],
)
def test_production_refuses_unsafe_defaults(override: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        make(**{**SAFE_PRODUCTION, **override})


def test_development_tolerates_what_production_refuses() -> None:
    settings = make(debug=True, cors_origins="*")
    assert settings.debug


def test_secrets_do_not_print() -> None:
    settings = make(mongodb_url="mongodb://user:hunter2@db/x", **SAFE_PRODUCTION)
    assert "hunter2" not in repr(settings)
    assert "BEGIN PRIVATE KEY" not in str(settings.model_dump())


@pytest.mark.parametrize(
    "name", [".env.development.example", ".env.test.example", ".env.production.example"]
)
def test_committed_examples_parse(name: str) -> None:
    path = ROOT_DIR / name
    assert path.exists(), name
    settings = Settings(_env_file=path)  # type: ignore[call-arg]
    expected = name.split(".")[2]
    assert settings.environment.value == expected


def test_env_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("GATEHOUSE_MAX_BODY_BYTES=2048\nGATEHOUSE_LOG_JSON=true\n")
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.max_body_bytes == 2048
    assert settings.log_json is True
