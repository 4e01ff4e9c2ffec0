"""Breached passwords: an offline Bloom filter of known-breached passwords (an operator's
list compiled by scripts/build_breached_filter.py, and a built-in list), and an optional
k-anonymity check against a Pwned Passwords style ``range`` API."""
