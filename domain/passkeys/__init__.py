"""Passkeys (WebAuthn): registration, sign-in and management of a user's credentials."""
