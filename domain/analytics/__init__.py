"""Activity analytics from Redis counters and the audit trail."""
