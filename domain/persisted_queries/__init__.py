"""Automatic persisted queries: GraphQL documents known by their sha256, kept in Redis."""
