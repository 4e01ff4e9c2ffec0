"""Thin entry points: GraphQL resolvers and REST handlers. Parse, call domain, shape."""
