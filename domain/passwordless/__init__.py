"""Signing in without a password: a code or link emailed to the address, and the
account's list of ways in."""
