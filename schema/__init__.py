"""The GraphQL schema: Strawberry types, inputs, results, permissions and extensions."""
