"""Signed webhooks: endpoints admins register, events, and their deliveries."""
