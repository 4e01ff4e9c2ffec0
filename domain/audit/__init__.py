"""The audit trail: an append-only record of every security-relevant action."""
