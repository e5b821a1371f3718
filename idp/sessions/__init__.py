"""The provider's login sessions and pending interactions, kept on the server.

The browser's cookie holds only a random opaque id; everything else lives in a ``SessionStore``
(a database table by default, Redis for many nodes), keyed by a digest of that id.
"""
