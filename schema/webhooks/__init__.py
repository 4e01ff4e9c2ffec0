"""GraphQL types of webhook management."""
