"""The OAuth 2.0 / OpenID Connect protocol engine: Authlib's server, with what Authlib leaves to
the implementer written here, one module per specification or endpoint."""
