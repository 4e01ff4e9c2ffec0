"""Gatehouse as an OAuth 2.0 / OpenID Connect provider (issue 20)."""
