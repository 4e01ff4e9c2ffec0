"""GraphQL types of activity analytics."""
