"""auth: users, roles, permissions, signed access tokens with rotating refresh tokens, JWKS, audit."""

__version__ = "0.1.0"
