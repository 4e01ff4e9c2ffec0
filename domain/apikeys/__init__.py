"""API keys: how service clients identify themselves and get their own limits."""
