"""Health of the dependencies: each checked concurrently, each within a deadline."""
