"""GraphQL types and operations of the passkeys slice."""
