"""The account lock: failures counted and throttled, the lock, its notice and unlocking."""
