"""Users: registration, verification, login, password lifecycle, profile."""
