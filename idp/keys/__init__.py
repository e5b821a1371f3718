"""Signing keys: the ring in the database, rotation, and the public JWKS."""
