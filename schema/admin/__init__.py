"""GraphQL types and operations of user administration."""
