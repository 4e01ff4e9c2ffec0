"""What administrators do to accounts: the use cases of the admin API."""
