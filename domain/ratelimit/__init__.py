"""Sliding-window rate limits in Redis, decided atomically in one round trip."""
