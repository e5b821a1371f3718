"""The ``idp`` operator command: JSON output, one-line errors with exit status 2, no half-writes."""

from __future__ import annotations

import json
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner, Result
from joserfc.jwk import ECKey
from sqlalchemy import select

from idp.app import create_app
from idp.auth import rfc6238
from idp.auth.one_time_codes import read_code
from idp.cli import main
from idp.config import load_settings, new_secret
from idp.services import services
from idp.store.db import db
from idp.store.models import AdminAction
from idp.store.subjects import find_person
from tests.support.identities import new_id_number, new_uscc
from tests.support.registry import id_card_cells


@pytest.fixture()
def run(tmp_path: Path) -> CliRunner:
    env = {
        "IDP_INSTANCE_DIR": str(tmp_path),
        "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "IDP_SECRET_KEY": new_secret(),
        "IDP_DATA_KEY": new_secret(),
        "IDP_INDEX_KEY": new_secret(),
        "IDP_ARGON2_MEMORY_KIB": "1024",
        "IDP_ARGON2_TIME_COST": "1",
    }
    runner = CliRunner(env=env)
    assert runner.invoke(main, ["db", "upgrade", "--json"]).exit_code == 0
    return runner


def call(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(main, list(args), input=stdin)


def add_person(runner: CliRunner, number: str) -> Result:
    return call(
        runner,
        "person",
        "add",
        "--id-number",
        number,
        "--name",
        "李四",
        "--password-stdin",
        "--json",
        stdin="long enough pw\n",
    )


def test_person_add_prints_masked_json(run: CliRunner) -> None:
    number = new_id_number()
    result = add_person(run, number)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id_number"] == number[:6] + "********" + number[-4:]
    assert number not in result.output


def test_bad_number_is_one_line_exit_2_and_writes_nothing(run: CliRunner) -> None:
    result = add_person(run, "11010519491231002Y")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error:")
    assert "11010519491231002Y" not in result.output
    listing = call(
        run,
        "person",
        "add",
        "--id-number",
        "360426199101010071",
        "--name",
        "x",
        "--password-stdin",
        stdin="short\n",
    )
    assert listing.exit_code == 2 and "8 characters" in listing.output


def test_duplicate_person_is_refused(run: CliRunner) -> None:
    number = new_id_number()
    assert add_person(run, number).exit_code == 0
    again = add_person(run, number)
    assert (
        again.exit_code == 2 and "already registered" in again.output and number not in again.output
    )


def test_enterprise_needs_a_registered_representative(run: CliRunner) -> None:
    rep = new_id_number()
    uscc = new_uscc()
    missing = call(
        run, "enterprise", "add", "--uscc", uscc, "--name", "某公司", "--legal-rep-id-number", rep
    )
    assert missing.exit_code == 2 and rep not in missing.output
    assert add_person(run, rep).exit_code == 0
    made = call(
        run,
        "enterprise",
        "add",
        "--uscc",
        uscc,
        "--name",
        "某公司",
        "--legal-rep-id-number",
        rep,
        "--json",
    )
    assert made.exit_code == 0, made.output
    bad = call(
        run,
        "enterprise",
        "add",
        "--uscc",
        uscc[:-1] + "I",
        "--name",
        "x",
        "--legal-rep-id-number",
        rep,
    )
    assert bad.exit_code == 2


def test_enterprise_set_representative_records_a_registered_person(run: CliRunner) -> None:
    first, second, uscc = new_id_number(), new_id_number(), new_uscc()
    assert add_person(run, first).exit_code == 0
    add = ("enterprise", "add", "--uscc", uscc, "--name", "某公司", "--legal-rep-id-number")
    assert call(run, *add, first).exit_code == 0
    change = ("enterprise", "set-representative", "--uscc", uscc, "--legal-rep-id-number")
    unknown = call(run, *change, second)
    assert unknown.exit_code == 2 and second not in unknown.output
    assert add_person(run, second).exit_code == 0
    changed = call(run, *change, second, "--json")
    assert changed.exit_code == 0, changed.output
    assert (
        json.loads(changed.output)["legal_representative"] == second[:6] + "********" + second[-4:]
    )
    assert uscc not in changed.output
    nowhere = call(
        run,
        "enterprise",
        "set-representative",
        "--uscc",
        new_uscc(),
        "--legal-rep-id-number",
        second,
    )
    assert nowhere.exit_code == 2


def test_client_add_prints_credentials_once(run: CliRunner) -> None:
    result = call(
        run, "client", "add", "--name", "公积金", "--redirect-uri", "https://gjj.example/cb",
        "--scope", "openid profile id_number", "--purpose", "id_number=核对缴存人身份", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["client_id"] and len(data["client_secret"]) >= 40
    public = call(
        run,
        "client",
        "add",
        "--name",
        "app",
        "--redirect-uri",
        "http://127.0.0.1:7/cb",
        "--public",
        "--json",
    )
    assert json.loads(public.output)["client_secret"] is None


def test_client_add_holds_a_client_to_par_and_the_fapi2_profile(
    run: CliRunner, tmp_path: Path
) -> None:
    base = ["client", "add", "--name", "税务", "--redirect-uri", "https://tax.example/cb"]
    refused = call(run, *base, "--profile", "fapi2", "--json")  # client_secret_basic by default
    assert refused.exit_code == 2 and "private_key_jwt" in refused.output
    key = ECKey.generate_key("P-256", parameters={"kid": "k1"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    jwt_client = [*base, "--auth-method", "private_key_jwt", "--jwks-file", str(jwks)]
    fapi = json.loads(call(run, *jwt_client, "--profile", "fapi2", "--json").output)
    pushing = json.loads(call(run, *base, "--require-par", "--json").output)
    plain = json.loads(call(run, *base, "--json").output)
    listed = {
        row["client_id"]: row for row in json.loads(call(run, "client", "list", "--json").output)
    }
    assert (listed[fapi["client_id"]]["profile"], fapi["client_secret"]) == ("fapi2", None)
    assert listed[fapi["client_id"]]["require_pushed_authorization_requests"] is True
    assert listed[pushing["client_id"]]["require_pushed_authorization_requests"] is True
    assert listed[pushing["client_id"]]["profile"] == ""
    assert listed[plain["client_id"]]["require_pushed_authorization_requests"] is False


def test_clients_are_listed_and_a_secret_is_reset_once(run: CliRunner) -> None:
    base = ["client", "add", "--name", "公积金", "--redirect-uri", "https://gjj.example/cb"]
    added = json.loads(call(run, *base, "--json").output)
    public = ["client", "add", "--name", "app", "--redirect-uri", "http://127.0.0.1:7/cb"]
    app_id = json.loads(call(run, *public, "--public", "--json").output)["client_id"]
    listed = json.loads(call(run, "client", "list", "--json").output)
    mine = {row["client_id"]: row for row in listed}
    assert mine[added["client_id"]]["name"] == "公积金"
    assert mine[app_id]["auth_method"] == "none"
    assert added["client_secret"] not in call(run, "client", "list").output
    reset = call(run, "client", "reset-secret", added["client_id"], "--json")
    assert reset.exit_code == 0, reset.output
    secret = json.loads(reset.output)["client_secret"]
    assert len(secret) >= 40 and secret != added["client_secret"]
    refused = call(run, "client", "reset-secret", app_id)
    assert refused.exit_code == 2 and "no secret" in refused.output
    unknown = call(run, "client", "reset-secret", "nobody")
    assert unknown.exit_code == 2 and unknown.output.startswith("error:")


@pytest.mark.parametrize(
    "args",
    [
        ["--redirect-uri", "http://rp.example/cb"],  # plain http off loopback
        ["--redirect-uri", "https://rp.example/cb#frag"],
        ["--redirect-uri", "https://rp.example/cb", "--scope", "openid email"],
        [
            "--redirect-uri",
            "https://rp.example/cb",
            "--public",
            "--grant-type",
            "client_credentials",
        ],
        ["--redirect-uri", "https://a.example/cb", "--redirect-uri", "https://b.example/cb"],
        ["--redirect-uri", "https://rp.example/cb", "--auth-method", "private_key_jwt"],
        ["--redirect-uri", "https://rp.example/cb", "--purpose", "profile"],
    ],
)
def test_client_add_rejects_bad_metadata(run: CliRunner, args: list[str]) -> None:
    result = call(run, "client", "add", "--name", "x", *args)
    assert result.exit_code == 2 and result.output.startswith("error:")


def test_the_credentials_scope_needs_the_operators_explicit_yes(run: CliRunner) -> None:
    """An app with ``credentials`` gets the citizen's certificates bound to keys it holds."""
    base = ["client", "add", "--name", "证照 app", "--redirect-uri", "https://app.example/cb"]
    refused = call(run, *base, "--scope", "openid credentials", "--json")
    assert refused.exit_code == 2
    assert "reserved" in refused.output and "--allow-reserved credentials" in refused.output
    allowed = call(
        run, *base, "--scope", "openid credentials", "--allow-reserved", "credentials", "--json"
    )
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.output)["client_id"]


def test_keys_rotate_and_list(run: CliRunner) -> None:
    before = json.loads(call(run, "keys", "list", "--json").output)
    rotated = json.loads(call(run, "keys", "rotate", "--json").output)["new_keys"]
    after = json.loads(call(run, "keys", "list", "--json").output)
    assert len(after) == len(before) + 2
    assert {k["kid"] for k in after if k["retired_at"] is None} == set(rotated)


def test_keys_withdraw_needs_yes_and_replaces_the_active_key(run: CliRunner) -> None:
    before = json.loads(call(run, "keys", "list", "--json").output)
    active = next(k for k in before if k["state"] == "active" and k["alg"] == "ES256")
    refused = call(run, "keys", "withdraw", active["kid"], "--json")
    assert refused.exit_code == 2 and "--yes" in refused.output
    done = call(run, "keys", "withdraw", active["kid"], "--yes", "--json")
    assert done.exit_code == 0, done.output
    shown = json.loads(done.output)
    assert shown["withdrawn"] == active["kid"] and len(shown["new_keys"]) == 1
    after = {k["kid"]: k for k in json.loads(call(run, "keys", "list", "--json").output)}
    assert after[active["kid"]]["state"] == "withdrawn"
    assert after[shown["new_keys"][0]]["state"] == "active"
    again = call(run, "keys", "withdraw", active["kid"], "--yes")
    assert again.exit_code == 2 and "already withdrawn" in again.output
    unknown = call(run, "keys", "withdraw", "nope", "--yes")
    assert unknown.exit_code == 2 and "no signing key" in unknown.output


def test_demo_seed_is_idempotent(run: CliRunner) -> None:
    first = json.loads(call(run, "demo", "seed", "--json").output)
    second = json.loads(call(run, "demo", "seed", "--json").output)
    assert first["new"] and not second["new"] and first["client_id"] == second["client_id"]


def test_support_unlocks_a_number_and_resets_its_factors(run: CliRunner) -> None:
    number = new_id_number()
    assert add_person(run, number).exit_code == 0
    app = create_app(load_settings(dict(run.env)))  # the CLI's own database
    with app.app_context():
        person = find_person(services().cipher, number)
        assert person is not None
        enrolment = rfc6238.start_enrolment(services().cipher, person)
        assert enrolment is not None
        code = pyotp.TOTP(enrolment.secret).now()
        assert rfc6238.confirm_enrolment(services().cipher, person, code) is not None
    unlocked = call(run, "person", "unlock", "--id-number", number, "--json")
    assert unlocked.exit_code == 0 and number not in unlocked.output
    reset = call(run, "person", "reset-factors", "--id-number", number, "--json")
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.output)["totp_removed"] is True and number not in reset.output
    with app.app_context():
        assert person is not None and not rfc6238.is_enrolled(person.id)
    again = json.loads(call(run, "person", "reset-factors", "--id-number", number, "--json").output)
    assert again["totp_removed"] is False and again["passkeys_removed"] == 0
    unknown = call(run, "person", "reset-factors", "--id-number", new_id_number())
    assert unknown.exit_code == 2 and unknown.output.startswith("error:")


def test_disable_and_enable_are_the_admin_tasks_recorded_as_the_cli(run: CliRunner) -> None:
    number = new_id_number()
    assert add_person(run, number).exit_code == 0
    disabled = call(run, "person", "disable", "--id-number", number, "--json")
    assert disabled.exit_code == 0, disabled.output
    assert set(json.loads(disabled.output)) == {
        "person",
        "id_number",
        "sessions_ended",
        "tokens_revoked",
    }
    enabled = json.loads(call(run, "person", "enable", "--id-number", number, "--json").output)
    assert enabled["disabled"] is False and number not in json.dumps(enabled)
    app = create_app(load_settings(dict(run.env)))
    with app.app_context():
        rows = db.session.scalars(select(AdminAction).order_by(AdminAction.id)).all()
        assert [(r.action, r.actor_kind, r.target) for r in rows] == [
            ("person.disable", "cli", enabled["id_number"]),
            ("person.enable", "cli", enabled["id_number"]),
        ]
    unknown = call(run, "person", "enable", "--id-number", new_id_number())
    assert unknown.exit_code == 2 and unknown.output.startswith("error:")


def test_db_status_and_downgrade(run: CliRunner) -> None:
    status = json.loads(call(run, "db", "status", "--json").output)
    assert status["current"] == status["latest"] and status["up_to_date"] is True
    latest = status["latest"]
    unconfirmed = call(run, "db", "downgrade", "0012")
    assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.output
    down = call(run, "db", "downgrade", "0012", "--yes", "--json")
    assert down.exit_code == 0, down.output
    assert json.loads(down.output)["current"] == "0012"
    behind = json.loads(call(run, "db", "status", "--json").output)
    assert behind == {"current": "0012", "latest": latest, "up_to_date": False}
    assert call(run, "db", "upgrade").exit_code == 0
    assert json.loads(call(run, "db", "status", "--json").output)["up_to_date"] is True


def test_db_purge_reports_what_it_deleted(run: CliRunner) -> None:
    result = call(run, "db", "purge", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    kinds = {"codes", "tokens", "seen_values", "sessions", "logout_deliveries", "revoked_grants"}
    kinds |= {"one_time_codes", "sms_outbox", "pushed_requests"}
    kinds |= {"throttle_counters", "sign_in_history", "security_events", "initial_access_tokens"}
    assert set(counts) == kinds
    assert all(isinstance(n, int) for n in counts.values())


def test_activation_code_needs_a_registry_record(run: CliRunner, tmp_path: Path) -> None:
    number = new_id_number()
    refused = call(run, "person", "activation-code", number)
    assert refused.exit_code == 2 and "no record" in refused.output and number not in refused.output
    export = tmp_path / "ids.csv"
    cells = id_card_cells(number, "赵敏", "13912345678")
    export.write_text(",".join(cells) + "\n" + ",".join(cells.values()) + "\n", encoding="utf-8")
    assert call(run, "registry", "import", "resident_id", str(export)).exit_code == 0
    issued = call(run, "person", "activation-code", number, "--json")
    assert issued.exit_code == 0, issued.output
    shown = json.loads(issued.output)
    assert shown["purpose"] == "register" and read_code(shown["activation_code"]) is not None
    assert number not in issued.output
    # Once registered, the counter's code resets the password instead.
    assert (
        call(
            run,
            "person",
            "add",
            "--id-number",
            number,
            "--name",
            "赵敏",
            "--password-stdin",
            stdin="lantern orchid quay\n",
        ).exit_code
        == 0
    )
    again = json.loads(call(run, "person", "activation-code", number, "--json").output)
    assert again["purpose"] == "reset"


def test_person_add_applies_the_password_rules(run: CliRunner) -> None:
    args = ["person", "add", "--id-number", new_id_number(), "--name", "周九", "--password-stdin"]
    common = call(run, *args, stdin="password123\n")
    assert common.exit_code == 2 and "common" in common.output
    assert call(run, *args, stdin="lantern orchid quay\n").exit_code == 0


def test_db_re_encrypt_after_a_data_key_rotation(run: CliRunner) -> None:
    assert add_person(run, new_id_number()).exit_code == 0
    old = str(run.env["IDP_DATA_KEY"])
    first = call(run, "db", "re-encrypt", "--json")
    assert json.loads(first.output)["persons.number_cipher"] == 0  # already current
    run.env["IDP_DATA_KEY"] = new_secret()
    forgot = call(run, "db", "re-encrypt", "--json")
    assert forgot.exit_code == 2 and forgot.output.count("\n") == 1
    assert "IDP_DATA_KEY_FALLBACKS" in forgot.output and old not in forgot.output
    run.env["IDP_DATA_KEY_FALLBACKS"] = old
    moved = json.loads(call(run, "db", "re-encrypt", "--json").output)
    assert moved["persons.number_cipher"] == 1 and moved["signing_keys.private_cipher"] >= 2
    del run.env["IDP_DATA_KEY_FALLBACKS"]
    again = json.loads(call(run, "db", "re-encrypt", "--json").output)
    assert again["persons.number_cipher"] == 0 and again["already_current"] >= 3


def test_db_purge_once_per_cluster_runs_once_a_day(run: CliRunner) -> None:
    first = json.loads(call(run, "db", "purge", "--once-per-cluster", "--json").output)
    assert "tokens" in first
    second = json.loads(call(run, "db", "purge", "--once-per-cluster", "--json").output)
    assert second["status"] == "skipped"
    assert "tokens" in json.loads(call(run, "db", "purge", "--json").output)  # by hand: always
