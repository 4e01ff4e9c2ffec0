"""One typed settings object, read from the environment and ``.env`` files.

Every variable is prefixed with ``GATEHOUSE_``. ``GATEHOUSE_ENV_FILE`` names an
extra ``.env`` file to read (the committed examples are ``.env.*.example``).
"""

from __future__ import annotations

import ipaddress
import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.core.breached_settings import BreachedPasswordSettings
from domain.core.database_flavour import FlavourSetting
from domain.core.location_settings import LocationSettings
from domain.core.privacy_settings import PrivacySettings
from domain.core.production_checks import is_loopback_url, passkey_problems
from domain.core.roles import Role
from domain.core.social_settings import SocialProviderSettings

ROOT_DIR = Path(__file__).resolve().parents[2]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class UnsafeSettingsError(ValueError):
    """Raised when production settings keep a default that is unsafe to deploy."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


def _hash_threads_per_process() -> int:
    """The cores divided among the API's worker processes (``WEB_CONCURRENCY``, as
    uvicorn reads it): more hashes at once than cores only makes each slower, as the
    memory-hard hashes evict each other from the caches (bench/: login rate)."""
    try:
        processes = max(1, int(os.environ.get("WEB_CONCURRENCY") or 1))
    except ValueError:
        processes = 1
    return max(1, (os.cpu_count() or 2) // processes)


class Settings(LocationSettings, PrivacySettings, BreachedPasswordSettings, BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEHOUSE_",
        env_file=(".env", os.environ.get("GATEHOUSE_ENV_FILE", ".env.local")),
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # --- service identity ---
    environment: Environment = Environment.DEVELOPMENT
    debug: bool = False
    service_name: str = "gatehouse"
    public_url: str = "http://127.0.0.1:8000"
    var_dir: Path = ROOT_DIR / "var"

    # --- HTTP ---
    trusted_proxies: CsvList = Field(default_factory=list)
    cors_origins: CsvList = Field(default_factory=lambda: ["http://localhost:3000"])
    cors_allow_credentials: bool = True
    cors_max_age_seconds: int = 600
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Slow clients (slowloris): a request's headers must arrive within this time of the
    # connection opening (or of the previous response), and its body within the second.
    request_header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    request_body_timeout_seconds: float = Field(default=20.0, gt=0, le=600)
    hsts: bool = False
    hsts_max_age_seconds: int = 63_072_000
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)

    # --- GraphQL ---
    graphiql_enabled: bool = True
    introspection_enabled: bool = True

    # --- logging ---
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False
    log_file: Path | None = None
    log_rotation: str = "50 MB"
    log_retention: str = "14 days"

    # --- MongoDB ---
    mongodb_url: SecretStr = SecretStr("mongodb://127.0.0.1:27017")
    mongodb_database: str = "gatehouse"
    # auto: FerretDB or MongoDB, as buildInfo says (domain/core/database_flavour.py).
    database_flavour: FlavourSetting = FlavourSetting.AUTO
    mongodb_max_pool_size: int = Field(default=50, ge=1)
    mongodb_min_pool_size: int = Field(default=0, ge=0)
    mongodb_max_idle_ms: int = Field(default=60_000, ge=0)
    mongodb_server_selection_timeout_ms: int = Field(default=3_000, ge=100)
    mongodb_connect_timeout_ms: int = Field(default=3_000, ge=100)
    mongodb_socket_timeout_ms: int = Field(default=10_000, ge=100)

    # --- Redis ---
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    redis_max_connections: int = Field(default=100, ge=1)
    redis_socket_timeout_seconds: float = Field(default=2.0, gt=0)
    redis_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    redis_key_prefix: str = "gh:"

    # --- jobs ---
    queue_name: str = "default"
    job_max_retries: int = Field(default=5, ge=0)
    job_min_backoff_ms: int = Field(default=1_000, ge=1)
    job_max_backoff_ms: int = Field(default=300_000, ge=1)
    job_time_limit_ms: int = Field(default=60_000, ge=1)
    dead_letter_ttl_ms: int = Field(default=7 * 24 * 3600 * 1000, ge=1)
    # A worker silent this long is dead: its unacknowledged jobs go back to the queue.
    job_heartbeat_timeout_ms: int = Field(default=60_000, ge=1000)
    # Out of a million broker commands, how many also run that queue maintenance.
    job_maintenance_chance: int = Field(default=1000, ge=1, le=1_000_000)

    # --- email ---
    email_backend: Literal["smtp", "file"] = "file"
    email_from: str = "Gatehouse <no-reply@gatehouse.local>"
    mail_dir: Path | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    # --- audit trail ---
    # While the API runs, audit events are written in bulk this often (0: each event
    # before the request goes on); a crash can lose this window (domain/audit/buffer.py).
    audit_flush_interval_ms: int = Field(default=100, ge=0, le=5_000)
    audit_buffer_max_events: int = Field(default=1_000, ge=1, le=100_000)

    # --- maintenance ---
    audit_retention_days: int = Field(default=365, ge=1)
    maintenance_interval_seconds: int = Field(default=3600, ge=5)

    # --- email queue ---
    email_max_attempts: int = Field(default=6, ge=1)
    email_retry_base_ms: int = Field(default=2_000, ge=10)
    email_retry_max_ms: int = Field(default=600_000, ge=10)
    email_send_rate: str = "100/60"
    email_stuck_after_seconds: int = Field(default=120, ge=1)

    # --- webhooks ---
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=12, ge=1)
    webhook_max_age_seconds: int = Field(default=24 * 3600, ge=1)
    webhook_retry_base_ms: int = Field(default=10_000, ge=10)
    webhook_retry_max_ms: int = Field(default=3_600_000, ge=10)
    webhook_stale_after_seconds: int = Field(default=900, ge=1)
    webhook_secret_overlap_seconds: int = Field(default=24 * 3600, ge=0)
    webhook_retention_days: int = Field(default=30, ge=1)
    # Loopback, private and link-local targets (and plain http in production) are
    # refused unless this is on: for tests and closed networks only.
    webhook_allow_private_targets: bool = False

    # --- health ---
    health_check_timeout_seconds: float = Field(default=2.0, gt=0)

    # --- tokens ---
    # One or more PEM private keys (Ed25519 or P-256), concatenated; all verify, one signs.
    jwt_private_keys: SecretStr | None = None
    # PEM public keys of retired signing keys that still verify tokens in flight.
    jwt_public_keys: str | None = None
    jwt_active_kid: str | None = None
    # OpenID Connect provider (domain/oauth/): RSA private keys (PEM, 2048 bits or more)
    # that sign ID tokens and OAuth access tokens with RS256, which every OpenID provider
    # must offer. The first signs, the rest still verify (rotation as for the JWT keys).
    oidc_signing_keys: SecretStr | None = None
    oidc_login_ui_url: str | None = None  # headless login UI (domain/oauth/headless.py)
    # A directory of the built-in pages' translations, one <language tag>.json each
    # (resolvers/http/oauth/catalogue.py); checked at start-up.
    oidc_page_translations_dir: Path | None = None
    jwt_issuer: str = "gatehouse"
    jwt_audience: str = "gatehouse-api"
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    access_token_ttl_seconds: int = Field(default=900, ge=60)
    refresh_token_idle_seconds: int = Field(default=7 * 24 * 3600, ge=300)
    refresh_token_absolute_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    # The previous refresh token, presented again this soon after its rotation by the same
    # client context, gets the same successor instead of a reuse verdict (0 = strict).
    refresh_token_grace_seconds: int = Field(default=10, ge=0, le=60)
    email_verification_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    password_reset_ttl_seconds: int = Field(default=3600, ge=60)
    email_change_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    session_last_seen_interval_seconds: int = Field(default=60, ge=1)
    # An open WebSocket re-checks its session this often, in case a revocation notice
    # was lost while Redis restarted (notices themselves close it at once).
    websocket_recheck_seconds: float = Field(default=15.0, gt=0, le=300)
    allow_unverified_login: bool = False

    # --- passwords ---
    argon2_memory_kib: int = Field(default=19_456, ge=1024)
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_parallelism: int = Field(default=1, ge=1)
    password_hash_threads: int = Field(default_factory=lambda: _hash_threads_per_process(), ge=1)
    password_min_length: int = Field(default=8, ge=8)
    password_max_length: int = Field(default=128, le=1024)
    password_min_strength: int = Field(default=3, ge=0, le=4)
    password_history_size: int = Field(default=5, ge=0, le=24)

    # --- rate limits: "count/seconds" per rule; see domain/ratelimit/policy.py ---
    rate_limits_enabled: bool = True
    rate_limit_allowlist: CsvList = Field(default_factory=list)
    rate_limit_login_ip: str = "30/300"
    rate_limit_login_account: str = "20/300"
    rate_limit_register_ip: str = "10/3600"
    rate_limit_email_ip: str = "10/3600"
    rate_limit_email_account: str = "5/3600"
    rate_limit_token_ip: str = "30/300"
    rate_limit_refresh_ip: str = "120/60"
    rate_limit_mfa_ip: str = "30/300"
    rate_limit_mfa_account: str = "10/300"
    rate_limit_request_ip: str = "600/60"
    rate_limit_request_user: str = "600/60"
    rate_limit_request_admin: str = "3000/60"
    rate_limit_request_api_key: str = "6000/60"
    # The most budget an API key may be given when it is created.
    api_key_max_rate_limit: str = "6000/60"

    # --- account lockout ---
    lockout_threshold: int = Field(default=10, ge=1)
    lockout_counter_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    lockout_throttle_after: int = Field(default=3, ge=1)
    lockout_throttle_base_seconds: float = Field(default=1.0, ge=0)
    lockout_throttle_max_seconds: float = Field(default=30.0, ge=0)
    unlock_token_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    unlock_account_path: str = "/unlock-account"

    # --- GraphQL limits ---
    graphql_max_depth: int = Field(default=15, ge=1)
    graphql_max_aliases: int = Field(default=100, ge=1)
    graphql_max_tokens: int = Field(default=5000, ge=100)
    graphql_max_cost: int = Field(default=2500, ge=10)
    graphql_batch_max_operations: int = Field(default=0, ge=0)
    introspection: Literal["on", "admin", "off"] | None = None
    # Automatic persisted queries (Apollo's protocol): documents by sha256, in Redis.
    persisted_queries_enabled: bool = True
    persisted_queries_max_documents: int = Field(default=10_000, ge=1)
    persisted_queries_max_document_bytes: int = Field(default=65_536, ge=256)
    persisted_queries_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)

    # --- two-factor ---
    totp_encryption_key: SecretStr | None = None
    totp_issuer: str | None = None
    mfa_challenge_ttl_seconds: int = Field(default=300, ge=30)
    # Roles whose permissions need a session signed in with a second factor (ASVS 4.3.1).
    mfa_required_roles: CsvList = Field(default_factory=list)
    # The longest any lasting-control change (enrol a factor, create an API key, ...)
    # accepts a sign-in or `reauthenticate`: each operation declares its own maximum age
    # (SECURITY.md), and this caps them all; lower it to tighten every one.
    reauthentication_max_age_seconds: int = Field(default=900, ge=30, le=3600)
    # How long a device that answered the second factor with `rememberDevice` may skip
    # it (domain/mfa/trusted_devices.py); 0 remembers no device.
    trusted_device_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=0, le=365 * 24 * 3600)
    impersonation_ttl_seconds: int = Field(default=900, ge=60, le=3600)  # capped: access TTL

    # --- sign-in with an emailed code or link (domain/passwordless/) ---
    email_sign_in_enabled: bool = True
    email_sign_in_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    # Wrong codes that end a code (each also counts toward the account lock).
    email_sign_in_max_attempts: int = Field(default=5, ge=1, le=10)
    email_sign_in_path: str = "/email-sign-in"

    # --- passkeys (WebAuthn; domain/passkeys/) ---
    # The relying party: the registrable domain passkeys are bound to (the origins' host
    # or a parent of it), and the name authenticators show beside the account.
    passkey_rp_id: str = "localhost"
    passkey_rp_name: str | None = None  # the product name when unset
    # Exactly the origins (scheme://host[:port]) whose pages may create and use passkeys.
    passkey_origins: CsvList = Field(default_factory=lambda: ["http://localhost:3000"])
    passkey_user_verification: Literal["required", "preferred", "discouraged"] = "preferred"
    # "none": no attestation asked; "direct": verified for the formats py_webauthn knows.
    passkey_attestation: Literal["none", "direct"] = "none"
    passkey_challenge_ttl_seconds: int = Field(default=300, ge=30, le=900)

    # --- social sign-in (OpenID Connect / OAuth2; domain/social/) ---
    # A JSON object: provider name -> SocialProviderSettings (domain/core/social_settings.py).
    social_providers: dict[str, SocialProviderSettings] = Field(default_factory=dict)
    # Exactly the callback pages (compared whole, RFC 9700 §4.1.3) a sign-in may return to.
    social_redirect_uris: CsvList = Field(default_factory=list)
    social_state_ttl_seconds: int = Field(default=600, ge=60, le=1800)
    social_link_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    # Connect and read timeout of every call to a provider (discovery, keys, tokens, APIs).
    social_http_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    # How long discovery documents and key sets are kept (an unknown key id refetches).
    social_metadata_ttl_seconds: int = Field(default=3600, ge=0)
    # Keep the provider's access and refresh tokens (sealed, domain/social/tokens.py) for
    # the app to call the provider's API; off: nothing a provider issues is kept.
    social_store_provider_tokens: bool = False

    # --- frontend links in emails ---
    frontend_url: str = "http://localhost:3000"
    verify_email_path: str = "/verify-email"
    reset_password_path: str = "/reset-password"
    confirm_email_change_path: str = "/confirm-email"
    product_name: str = "Gatehouse"
    email_brand_color: str = Field(default="#2563eb", pattern=r"^#[0-9a-fA-F]{6}$")

    # --- error tracking ---
    sentry_dsn: SecretStr | None = None

    _split = field_validator(
        "trusted_proxies",
        "cors_origins",
        "rate_limit_allowlist",
        "mfa_required_roles",
        "passkey_origins",
        "social_redirect_uris",
        mode="before",
    )(_split_csv)

    @field_validator("trusted_proxies", "rate_limit_allowlist")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("mfa_required_roles")
    @classmethod
    def _known_roles(cls, names: list[str]) -> list[str]:
        unknown = sorted(set(names) - {role.value for role in Role})
        if unknown:
            raise ValueError(f"unknown roles: {', '.join(unknown)}")
        return names

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment is not Environment.PRODUCTION:
            return self
        problems: list[str] = []
        if self.debug:
            problems.append("GATEHOUSE_DEBUG must be false")
        if self.jwt_private_keys is None or not self.jwt_private_keys.get_secret_value():
            problems.append("GATEHOUSE_JWT_PRIVATE_KEYS must hold the signing keys")
        if self.totp_encryption_key is None or not self.totp_encryption_key.get_secret_value():
            problems.append("GATEHOUSE_TOTP_ENCRYPTION_KEY must hold a 32-byte base64url key")
        if "*" in self.cors_origins and self.cors_allow_credentials:
            problems.append("wildcard GATEHOUSE_CORS_ORIGINS cannot be used with credentials")
        if self.public_url.startswith("http://") and not is_loopback_url(self.public_url):
            problems.append("GATEHOUSE_PUBLIC_URL must be https")
        problems.extend(passkey_problems(self.passkey_rp_id, self.passkey_origins))
        if problems:
            raise UnsafeSettingsError("unsafe production settings: " + "; ".join(problems))
        return self

    @property
    def introspection_mode(self) -> Literal["on", "admin", "off"]:
        if self.introspection is not None:
            return self.introspection
        if not self.introspection_enabled:
            return "off"
        return "admin" if self.is_production else "on"

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def mail_outbox(self) -> Path:
        return self.mail_dir or self.var_dir / "mail"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
