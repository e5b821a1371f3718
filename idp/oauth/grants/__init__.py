"""Token-endpoint grants (RFC 6749 4.1, 4.4, 6), each hardened where Authlib leaves it open."""

#: Every client authenticates one way, chosen at registration (OIDC Registration 2).
TOKEN_ENDPOINT_AUTH_METHODS = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
    "none",
]
