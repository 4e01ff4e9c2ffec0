"""GraphQL types of the identity and sessions slices."""
