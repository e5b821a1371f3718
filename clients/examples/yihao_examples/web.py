"""What the reference apps share: configuration from the environment, CSRF, one layout."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader

SHARED = Path(__file__).parent

#: The provider settings an app takes from the environment (see clients/examples/README.md).
YIHAO_SETTINGS = (
    "YIHAO_ISSUER",
    "YIHAO_CLIENT_ID",
    "YIHAO_CLIENT_SECRET",
    "YIHAO_TOKEN_ENDPOINT_AUTH_METHOD",
    "YIHAO_CLIENT_PRIVATE_KEY_FILE",
    "YIHAO_DPOP_KEY_FILE",
    "YIHAO_PUSHED_AUTHORIZATION_REQUESTS",
    "YIHAO_REDIRECT_URI",
    "YIHAO_POST_LOGOUT_REDIRECT_URI",
)


def base_app(import_name: str, scope: str, env: Mapping[str, str] | None = None) -> Flask:
    """A Flask app with the shared layout and static files, CSRF on every form, and the
    ``YIHAO_*`` settings read from ``env`` (the process environment by default)."""
    env = os.environ if env is None else env
    app = Flask(import_name, static_folder=str(SHARED / "static"), static_url_path="/static")
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(Path(app.root_path) / "templates")),
            FileSystemLoader(str(SHARED / "templates")),
        ]
    )
    app.config.update({name: env[name] for name in YIHAO_SETTINGS if env.get(name)})
    app.config.update(
        YIHAO_SCOPE=scope,
        # A random key per start is fine for a demo: sign-ins simply end on restart.
        SECRET_KEY=env.get("EXAMPLE_SECRET_KEY") or secrets.token_urlsafe(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    CSRFProtect(app)
    return app
