"""Outgoing email: the transports that deliver a rendered message."""
