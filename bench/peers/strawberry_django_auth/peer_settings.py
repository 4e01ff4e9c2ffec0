"""Django settings for the strawberry-django-auth peer, production-style.

DEBUG off, SQLite in WAL mode with immediate transactions (Django's advice for SQLite
under concurrent writers), argon2id with Gatehouse's parameters, 15-minute access tokens
(Gatehouse's default), long-running refresh tokens, verified email required to sign in,
activation emails written by Django's file backend. Captcha is off: Gatehouse has none.
Values come from BENCH_* variables set by the harness.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from gqlauth.settings_type import GqlAuthSettings, email_field, username_field

DATA_DIR = Path(os.environ["BENCH_DATA_DIR"])

SECRET_KEY = os.environ["BENCH_JWT_SECRET"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "peer_urls"
USE_TZ = True

INSTALLED_APPS = [
    # gqlauth's UserType exposes the admin log (logentry_set): the admin app must be there.
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "strawberry_django",
    "gqlauth",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "gqlauth.core.middlewares.django_jwt_middleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "db.sqlite3",
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = ["peer_hashers.BenchArgon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["BENCH_MAIL_DIR"]
DEFAULT_FROM_EMAIL = "no-reply@peer.local"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

GQL_AUTH = GqlAuthSettings(
    LOGIN_REQUIRE_CAPTCHA=False,
    REGISTER_REQUIRE_CAPTCHA=False,
    ALLOW_LOGIN_NOT_VERIFIED=False,
    # Users sign in with their email; the username holds the same value.
    LOGIN_FIELDS={username_field},
    REGISTER_MUTATION_FIELDS={email_field, username_field},
    JWT_EXPIRATION_DELTA=timedelta(seconds=900),
    JWT_LONG_RUNNING_REFRESH_TOKEN=True,
    JWT_REFRESH_EXPIRATION_DELTA=timedelta(days=7),
)
