"""Citizens and enterprises, registered by an operator."""

from __future__ import annotations

import sys

import click

from idp.auth import rfc6238, webauthn
from idp.auth.events import SecurityEvent, security_event
from idp.auth.one_time_codes import Purpose, format_activation_code, issue_activation_code
from idp.auth.password_rules import password_problem, personal_words
from idp.auth.session import end_sessions
from idp.cli.base import app_context, emit, json_option, main, operator_command
from idp.identifiers import mask_identifier, parse_resident_id, parse_uscc
from idp.oauth.tokens import revoke_person
from idp.services import services
from idp.store.db import db, utcnow
from idp.store.registry import find_record
from idp.store.subjects import (
    Contact,
    add_enterprise,
    add_person,
    change_representative,
    find_enterprise,
    find_person,
    person_index,
)


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
    problem = password_problem(password, personal_words(rid.number))
    if problem is not None:
        raise click.BadParameter(f"the password is refused ({problem}): {PASSWORD_RULE}")
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


PASSWORD_RULE = "8 to 128 characters, not a common password, without the number or birth date"


@person_group.command("activation-code")
@click.argument("id_number")
@json_option
@operator_command
def person_activation_code(id_number: str, as_json: bool) -> None:
    """Print a one-time activation code for a citizen at the counter, after checking their
    identity card: it registers them (when the population registry has their record) or resets
    their password (when they have an account). Shown once, stored only as a digest."""
    rid = parse_resident_id(id_number)
    with app_context():
        svc = services()
        registered = find_person(svc.cipher, rid.number) is not None
        if not registered and find_record(svc.cipher, "resident_id", rid.number) is None:
            raise click.BadParameter(f"the population registry has no record of {rid.masked}")
        purpose = Purpose.RESET if registered else Purpose.REGISTER
        code = issue_activation_code(svc, purpose, person_index(svc.cipher, rid.number))
        emit(
            {
                "id_number": rid.masked,
                "purpose": purpose.value,
                "activation_code": format_activation_code(code),
                "valid_seconds": svc.settings.activation_code_ttl,
            },
            as_json,
        )


@person_group.command("unlock")
@click.option("--id-number", required=True)
@json_option
@operator_command
def person_unlock(id_number: str, as_json: bool) -> None:
    """Forget the number's failed password attempts (the citizen called: "my account is
    locked"); works the same whether or not the number is registered."""
    rid = parse_resident_id(id_number)
    with app_context():
        svc = services()
        svc.throttle.forget_failures(person_index(svc.cipher, rid.number))
        emit({"id_number": rid.masked, "status": "unlocked"}, as_json)


@person_group.command("reset-factors")
@click.option("--id-number", required=True)
@json_option
@operator_command
def person_reset_factors(id_number: str, as_json: bool) -> None:
    """After checking the card at a counter, for a lost phone: remove the authenticator app,
    its recovery codes and every passkey, and end every session; the password stays."""
    rid = parse_resident_id(id_number)
    with app_context():
        person = find_person(services().cipher, rid.number)
        if person is None:
            raise click.BadParameter(f"no person is registered with number {rid.masked}")
        had_totp = rfc6238.is_enrolled(person.id)
        if had_totp:
            rfc6238.remove(person.id)
        passkeys = webauthn.remove_all(person.id)
        if passkeys:
            security_event(SecurityEvent.FACTOR_REMOVED, person.id, factor="passkey", by="operator")
        emit(
            {
                "id_number": rid.masked,
                "totp_removed": had_totp,
                "passkeys_removed": passkeys,
                "sessions_ended": end_sessions(person.id, None),
            },
            as_json,
        )


@person_group.command("disable")
@click.option("--id-number", required=True)
@json_option
@operator_command
def person_disable(id_number: str, as_json: bool) -> None:
    """Disable a person: no more sign-ins, every session ended (with back-channel logout to the
    services that took part) and every token about them revoked."""
    rid = parse_resident_id(id_number)
    with app_context():
        person = find_person(services().cipher, rid.number)
        if person is None:
            raise click.BadParameter(f"no person is registered with number {rid.masked}")
        person.disabled_at = person.disabled_at or utcnow()
        db.session.commit()
        ended = end_sessions(person.id, None)
        emit(
            {
                "person": person.public_id,
                "id_number": rid.masked,
                "sessions_ended": ended,
                "tokens_revoked": revoke_person(person.id),
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


@enterprise_group.command("set-representative")
@click.option("--uscc", required=True)
@click.option("--legal-rep-id-number", required=True)
@json_option
@operator_command
def enterprise_set_representative(uscc: str, legal_rep_id_number: str, as_json: bool) -> None:
    """Record a new legal representative (already registered); the previous one can no longer
    act for the enterprise, and their grants for it end at their next refresh."""
    code = parse_uscc(uscc)
    rid = parse_resident_id(legal_rep_id_number)
    with app_context():
        svc = services()
        enterprise = find_enterprise(svc.cipher, code)
        if enterprise is None:
            raise click.BadParameter(f"no enterprise with code {mask_identifier(code.code)}")
        rep = find_person(svc.cipher, rid.number)
        if rep is None:
            raise click.BadParameter(f"no person with number {rid.masked} is registered")
        change_representative(enterprise, rep)
        db.session.commit()
        emit({"uscc": mask_identifier(code.code), "legal_representative": rid.masked}, as_json)
