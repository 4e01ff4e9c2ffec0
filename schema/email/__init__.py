"""GraphQL types of the email outbox (admin)."""
