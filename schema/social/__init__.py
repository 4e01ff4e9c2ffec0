"""GraphQL types and fields of social sign-in."""
