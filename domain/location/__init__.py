"""Where a sign-in comes from: the country of the client's address (offline, iptocc), and
the risk signals read from it (a country new to the account, travel faster than possible)."""
