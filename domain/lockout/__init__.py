"""Account lockout after consecutive failures, with progressive throttling before it."""
