"""Periodic clean-up: retention and expiry without TTL indexes (DESIGN.md section 5)."""
