"""GraphQL types of the audit trail."""
