"""Authentication: passwords, JWT access tokens, refresh tokens and login throttling."""
