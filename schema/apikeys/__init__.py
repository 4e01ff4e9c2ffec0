"""GraphQL types of API-key management."""
