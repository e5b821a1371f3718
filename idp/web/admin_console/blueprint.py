"""The console's blueprint, on its own so every page module can add to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin_console", __name__, url_prefix="/admin")
