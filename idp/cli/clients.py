"""Relying parties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from idp.admin import clients
from idp.admin.paging import MAX_LIMIT
from idp.admin.roles import CLI
from idp.cli.base import app_context, emit, json_option, main, operator_command
from idp.oauth import fapi2
from idp.oauth.assurance import ACR_VALUES_SUPPORTED
from idp.oauth.registration import RESERVED_SCOPES, ClientSpec


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
@click.option("--backchannel-logout-uri", help="Where logout tokens go when a session ends.")
@click.option(
    "--backchannel-logout-session-required",
    is_flag=True,
    help="The client needs sid in logout tokens (always sent here).",
)
@click.option(
    "--allow-reserved",
    "allowed_reserved",
    multiple=True,
    type=click.Choice(sorted(RESERVED_SCOPES)),
    help="Let this client have a reserved scope it lists in --scope (e.g. credentials).",
)
@click.option(
    "--minimum-acr",
    type=click.Choice(ACR_VALUES_SUPPORTED),
    help="The lowest level of assurance this client accepts; sign-ins below it step up.",
)
@click.option(
    "--require-par",
    is_flag=True,
    help="Sign-ins only from requests the client pushed to /par first (RFC 9126).",
)
@click.option(
    "--profile",
    type=click.Choice([p for p in fapi2.PROFILES if p]),
    help="Hold the client to a security profile: fapi2 (private_key_jwt, PAR, DPoP, 60 s codes).",
)
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
    backchannel_logout_uri: str | None,
    backchannel_logout_session_required: bool,
    allowed_reserved: tuple[str, ...],
    minimum_acr: str | None,
    require_par: bool,
    profile: str | None,
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
        backchannel_logout_uri=backchannel_logout_uri,
        backchannel_logout_session_required=backchannel_logout_session_required,
        allowed_reserved=frozenset(allowed_reserved),
        minimum_acr=minimum_acr,
        require_pushed_authorization_requests=require_par,
        profile=profile or "",
    )
    with app_context():
        added = clients.register(CLI, spec)
        emit({"client_id": added["client_id"], "client_secret": added["client_secret"]}, as_json)


_LISTED = (
    "client_id",
    "name",
    "auth_method",
    "scope",
    "grant_types",
    "redirect_uris",
    "require_pushed_authorization_requests",
    "profile",
)


@client_group.command("list")
@json_option
@operator_command
def client_list(as_json: bool) -> None:
    """Every registered client, oldest first (secrets are never shown again)."""
    with app_context():
        rows = [{k: c[k] for k in (*_LISTED, "disabled_at", "created_at")} for c in _every()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        off = "  (disabled)" if row["disabled_at"] else ""
        click.echo(f"{row['client_id']}  {row['auth_method']}  {row['name']}  {row['scope']}{off}")


def _every() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while page := clients.list_clients(CLI, len(found), MAX_LIMIT)["items"]:
        found.extend(page)
    return found


@client_group.command("reset-secret")
@click.argument("client_id")
@json_option
@operator_command
def client_reset_secret(client_id: str, as_json: bool) -> None:
    """Give a confidential client a new secret, printed once; the old one stops working."""
    with app_context():
        emit(clients.rotate_secret(CLI, client_id), as_json)
