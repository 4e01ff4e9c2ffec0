"""GraphQL types and operations of trusted devices (skipping the second factor)."""
