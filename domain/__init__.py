"""Business rules of Gatehouse: no GraphQL, no HTTP."""
