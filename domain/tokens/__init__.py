"""Signed access tokens (JWT) and the keys that sign and verify them."""
