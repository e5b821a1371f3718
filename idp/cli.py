"""The ``idp`` operator command.

Every command takes ``--json`` for scripts. Bad input ends with one line on stderr and exit status
2, before anything is written: each command validates fully, then commits once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from idp.app import create_app
from idp.config import ConfigError, load_settings, new_secret
from idp.demo import seed
from idp.identifiers import InvalidIdentifier, mask_identifier, parse_resident_id, parse_uscc
from idp.oauth.registration import ClientSpec, RegistrationError, register_client
from idp.services import services
from idp.store.db import db
from idp.store.migrate import upgrade
from idp.store.subjects import AlreadyRegistered, Contact, add_enterprise, add_person, find_person
from idp.wsgi_server import run

P = ParamSpec("P")
R = TypeVar("R")

#: Errors that mean "the operator's input is wrong", reported in one line with exit status 2.
USER_ERRORS = (
    InvalidIdentifier,
    AlreadyRegistered,
    RegistrationError,
    ConfigError,
    click.BadParameter,
)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def operator_command(func: Callable[P, R]) -> Callable[P, R | None]:
    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            _fail(str(exc))
        return None

    return wrapper


def emit(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")


@contextmanager
def app_context() -> Iterator[None]:
    app = create_app()
    with app.app_context():
        yield


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


@click.group()
def main() -> None:
    """Operate the Yihao identity provider."""


@main.command("secret")
def secret() -> None:
    """Print a fresh 32-byte secret for IDP_SECRET_KEY, IDP_DATA_KEY or IDP_INDEX_KEY."""
    click.echo(new_secret())


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@json_option
@operator_command
def db_upgrade(as_json: bool) -> None:
    """Apply every pending migration, then make sure signing keys exist."""
    settings = load_settings()
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    with app_context():
        upgrade(str(db.engine.url.render_as_string(hide_password=False)))
        created = services().keys.ensure()
    emit({"status": "upgraded", "new_keys": created}, as_json)


@main.group("person")
def person_group() -> None:
    """Citizens."""


@person_group.command("add")
@click.option("--id-number", required=True)
@click.option("--name", required=True)
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from stdin.")
@click.option("--phone")
@click.option("--address", help="Formatted postal address.")
@json_option
@operator_command
def person_add(
    id_number: str,
    name: str,
    password_stdin: bool,
    phone: str | None,
    address: str | None,
    as_json: bool,
) -> None:
    """Register a person; the password is read from standard input, never from the command line."""
    rid = parse_resident_id(id_number)
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise click.BadParameter("password must have at least 8 characters")
    if not name.strip():
        raise click.BadParameter("name must not be empty")
    with app_context():
        svc = services()
        contact = Contact(
            phone=phone, address={"formatted": address, "country": "CN"} if address else {}
        )
        person = add_person(svc.cipher, rid, name.strip(), svc.passwords.hash(password), contact)
        db.session.commit()
        emit(
            {
                "person": person.public_id,
                "id_number": rid.masked,
                "document_type": str(rid.document_type),
            },
            as_json,
        )


@main.group("enterprise")
def enterprise_group() -> None:
    """Enterprises and their legal representatives."""


@enterprise_group.command("add")
@click.option("--uscc", required=True)
@click.option("--name", required=True)
@click.option("--legal-rep-id-number", required=True)
@json_option
@operator_command
def enterprise_add(uscc: str, name: str, legal_rep_id_number: str, as_json: bool) -> None:
    """Register an enterprise, represented by an already registered person."""
    code = parse_uscc(uscc)
    rid = parse_resident_id(legal_rep_id_number)
    with app_context():
        svc = services()
        rep = find_person(svc.cipher, rid.number)
        if rep is None:
            raise click.BadParameter(f"no person with number {rid.masked} is registered")
        enterprise = add_enterprise(svc.cipher, code, name.strip(), rep)
        db.session.commit()
        emit(
            {
                "enterprise": enterprise.public_id,
                "uscc": mask_identifier(code.code),
                "legal_representative": rid.masked,
            },
            as_json,
        )


def _purposes(values: tuple[str, ...]) -> dict[str, str]:
    pairs = [v.split("=", 1) for v in values]
    if any(len(p) != 2 or not p[1].strip() for p in pairs):
        raise click.BadParameter("--purpose takes SCOPE=TEXT")
    return {k: v.strip() for k, v in pairs}


def _jwks(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"--jwks-file: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise click.BadParameter('--jwks-file must hold a JWK set ({"keys": [...]})')
    return data


@main.group("client")
def client_group() -> None:
    """Relying parties."""


@client_group.command("add")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--scope", default="openid")
@click.option("--grant-type", "grant_types", multiple=True)
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE only).")
@click.option(
    "--auth-method",
    type=click.Choice(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]),
)
@click.option("--sector-identifier-uri")
@click.option("--post-logout-redirect-uri", "post_logout_uris", multiple=True)
@click.option("--purpose", "purposes", multiple=True, help="SCOPE=TEXT shown on the consent page.")
@click.option("--subject-type", type=click.Choice(["pairwise", "public"]), default="pairwise")
@click.option("--id-token-alg", type=click.Choice(["RS256", "ES256"]), default="RS256")
@click.option("--access-token-format", type=click.Choice(["opaque", "jwt"]), default="opaque")
@click.option("--jwks-file", help="The client's public JWK set, for private_key_jwt.")
@json_option
@operator_command
def client_add(
    name: str,
    redirect_uris: tuple[str, ...],
    scope: str,
    grant_types: tuple[str, ...],
    public: bool,
    auth_method: str | None,
    sector_identifier_uri: str | None,
    post_logout_uris: tuple[str, ...],
    purposes: tuple[str, ...],
    subject_type: str,
    id_token_alg: str,
    access_token_format: str,
    jwks_file: str | None,
    as_json: bool,
) -> None:
    """Register a client and print its client_id and (once only) its secret."""
    if public and auth_method not in (None, "none"):
        raise click.BadParameter("--public clients authenticate with 'none'")
    spec = ClientSpec(
        name=name,
        redirect_uris=list(redirect_uris),
        scope=scope,
        grant_types=list(grant_types) or ["authorization_code", "refresh_token"],
        auth_method="none" if public else (auth_method or "client_secret_basic"),
        sector_identifier_uri=sector_identifier_uri,
        post_logout_redirect_uris=list(post_logout_uris),
        purposes=_purposes(purposes),
        subject_type=subject_type,
        id_token_alg=id_token_alg,
        access_token_format=access_token_format,
        jwks=_jwks(jwks_file),
    )
    with app_context():
        client, client_secret = register_client(spec)
        emit({"client_id": client.client_id, "client_secret": client_secret}, as_json)


@main.group("keys")
def keys_group() -> None:
    """The signing-key ring."""


@keys_group.command("rotate")
@json_option
@operator_command
def keys_rotate(as_json: bool) -> None:
    """Retire the active signing keys and create new ones; the old stay published until expiry."""
    with app_context():
        emit({"new_keys": services().keys.rotate()}, as_json)


@keys_group.command("list")
@json_option
@operator_command
def keys_list(as_json: bool) -> None:
    """List every key with its state."""
    with app_context():
        rows = [
            {
                "kid": k.kid,
                "alg": k.alg,
                "created_at": k.created_at.isoformat(),
                "retired_at": k.retired_at.isoformat() if k.retired_at else None,
            }
            for k in services().keys.listing()
        ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        state = f"retired {row['retired_at']}" if row["retired_at"] else "active"
        click.echo(f"{row['kid']}  {row['alg']}  created {row['created_at']}  {state}")


@main.group("demo")
def demo_group() -> None:
    """Demonstration data."""


@demo_group.command("seed")
@json_option
@operator_command
def demo_seed(as_json: bool) -> None:
    """Create demo citizens, an enterprise and a demo client (skipping what exists)."""
    with app_context():
        emit(seed(), as_json)


@main.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int)
@click.option("--threads", default=4, type=int)
@operator_command
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve with gunicorn; no access log, as query strings may carry personal data."""
    load_settings()  # a configuration error is one clear line here, not a worker traceback
    run(host, port, workers, threads)
