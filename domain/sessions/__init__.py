"""Sessions across devices, refresh-token rotation with reuse detection, revocation."""
