"""Citizens and enterprises, registered by an operator."""

from __future__ import annotations

import sys

import click

from idp.admin import subjects as tasks
from idp.admin.roles import CLI
from idp.admin.subjects import person_by_number
from idp.auth.one_time_codes import Purpose, format_activation_code, issue_activation_code
from idp.auth.password_rules import password_problem, personal_words
from idp.cli.base import app_context, emit, json_option, main, operator_command
from idp.identifiers import mask_identifier, parse_resident_id, parse_uscc
from idp.services import services
from idp.store.db import db
from idp.store.registry import find_record
from idp.store.subjects import (
    Contact,
    add_enterprise,
    add_person,
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
    with app_context():
        emit(tasks.unlock_number(CLI, id_number), as_json)


@person_group.command("reset-factors")
@click.option("--id-number", required=True)
@json_option
@operator_command
def person_reset_factors(id_number: str, as_json: bool) -> None:
    """After checking the card at a counter, for a lost phone: remove the authenticator app,
    its recovery codes and every passkey, and end every session; the password stays."""
    with app_context():
        emit(tasks.reset_factors(CLI, person_by_number(id_number).public_id), as_json)


@person_group.command("disable")
@click.option("--id-number", required=True)
@json_option
@operator_command
def person_disable(id_number: str, as_json: bool) -> None:
    """Disable a person: no more sign-ins, every session ended (with back-channel logout to the
    services that took part) and every token about them revoked."""
    with app_context():
        emit(tasks.disable(CLI, person_by_number(id_number).public_id), as_json)


@person_group.command("enable")
@click.option("--id-number", required=True)
@json_option
@operator_command
def person_enable(id_number: str, as_json: bool) -> None:
    """Let a disabled person sign in again (their ended sessions and tokens stay ended)."""
    with app_context():
        shown = tasks.enable(CLI, person_by_number(id_number).public_id)
        emit({key: shown[key] for key in ("person", "id_number", "disabled")}, as_json)


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
    with app_context():
        enterprise = tasks.find_enterprise(CLI, uscc)["enterprise"]
        shown = tasks.set_representative(CLI, enterprise, legal_rep_id_number)
        emit(
            {
                "uscc": shown["uscc"],
                "legal_representative": shown["legal_representative"]["id_number"],
            },
            as_json,
        )
