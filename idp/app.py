"""The application factory: one function that wires configuration, store, protocol and web."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from idp.auth.events import init_security_log
from idp.auth.session import sign_out
from idp.config import Settings, load_settings
from idp.oauth.backchannel_logout import Deliverer
from idp.oauth.claims import SUPPORTED_SCOPES
from idp.oauth.rfc7592 import register_endpoints
from idp.oauth.server import build_server
from idp.observability.http import RequestMetrics
from idp.observability.logs import init_logs
from idp.observability.multiprocess import check_worker
from idp.services import Services
from idp.sessions.flask_session import ServerSessionInterface, store_for
from idp.store import models  # noqa: F401  (registers the tables)
from idp.store.db import db
from idp.store.engine import engine_options
from idp.supervision import die_with_master, mark_ready
from idp.web import (
    account,
    authorize,
    credentials_api,
    health,
    logout,
    mandates,
    my_certificates,
    oidc,
    passkeys,
    password,
    register,
    second_factor,
    sms_outbox,
    wallet,
)
from idp.web.address_gate import AddressGate
from idp.web.admin_api import init_admin_api
from idp.web.admin_console import init_admin_console
from idp.web.csrf import FormProtection
from idp.web.documents import PublicDocuments
from idp.web.errors import init_errors
from idp.web.headers import init_headers
from idp.web.i18n import init_i18n
from idp.web.metrics import init_metrics
from idp.web.request_id import init_request_id


def database_uri(url: str) -> str:
    """Route plain ``postgresql://`` URLs to the psycopg 3 driver we install."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    uri = database_uri(settings.database_url)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),
        # Flask-WTF 1.3 reads no SECRET_KEY_FALLBACKS; itsdangerous takes a list, newest last.
        WTF_CSRF_SECRET_KEY=settings.signing_keys,
        SQLALCHEMY_DATABASE_URI=uri,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(uri),
        SESSION_COOKIE_NAME="yihao_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        OAUTH2_SCOPES_SUPPORTED=list(SUPPORTED_SCOPES),
        BABEL_DEFAULT_LOCALE="zh_Hans_CN",
        BABEL_TRANSLATION_DIRECTORIES=str(app.root_path + "/web/translations"),
        WTF_CSRF_TIME_LIMIT=settings.session_ttl,
        TESTING=settings.environment == "testing",
    )
    db.init_app(app)
    svc = Services.build(settings)
    app.extensions["yihao"] = svc
    # Inside ProxyFix, so that it sees the client address ProxyFix derives.
    app.wsgi_app = AddressGate(app, svc)  # type: ignore[method-assign]
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.proxy_hops,
            x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops,
        )
    app.extensions["yihao_sessions"] = store_for(settings)
    app.session_interface = ServerSessionInterface(
        app.extensions["yihao_sessions"], settings.interaction_ttl
    )
    app.extensions["yihao_server"] = build_server(app, svc, sign_out)
    register_endpoints(app.extensions["yihao_server"])
    _init_web(app)
    app.wsgi_app = PublicDocuments(app, svc)  # type: ignore[method-assign]
    app.wsgi_app = RequestMetrics(app.wsgi_app)  # type: ignore[method-assign]
    return app


def serving_app() -> Flask:
    """The application as ``idp serve`` runs it in each worker process: with the thread that
    delivers this provider's back-channel logout tokens off the request path, and its log lines
    as JSON. It dies with the master, and says when it is ready (``idp.supervision``)."""
    die_with_master()
    check_worker()
    app = create_app()
    init_security_log()
    init_logs()
    Deliverer(app).start()
    mark_ready()
    return app


def _init_web(app: Flask) -> None:
    csrf = FormProtection(app)
    # Protocol endpoints are called by programs with their own authentication, not by forms.
    csrf.exempt(oidc.bp)
    csrf.exempt(authorize.authorize)
    csrf.exempt(logout.logout)
    csrf.exempt(credentials_api.bp)
    blueprints = (
        oidc.bp,
        authorize.bp,
        account.bp,
        mandates.bp,
        my_certificates.bp,
        logout.bp,
        credentials_api.bp,
        wallet.bp,
        passkeys.bp,
        register.bp,
        password.bp,
        sms_outbox.bp,
        second_factor.bp,
        health.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    init_admin_api(app)
    init_admin_console(app)
    init_metrics(app)
    init_i18n(app)
    init_errors(app)
    init_headers(app)
    init_request_id(app)
