"""GraphQL types and operations of sign-in with an emailed code or link."""
