"""Importing registry exports on both databases: per-row outcomes, file-level refusals, upserts,
encryption at rest, holder lookup and the ``idp registry import`` command."""

from __future__ import annotations

import csv
import io
import json
import secrets
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import func, select, text

from idp.cli import main
from idp.config import new_secret
from idp.credentials.importer import ImportFileError, ImportReport, Rejected, import_csv
from idp.credentials.registries import KINDS
from idp.demo import seed
from idp.services import services
from idp.store.db import db
from idp.store.models import RegistryRecord
from idp.store.registry import find_record, read_record, records_for_holder
from idp.store.subjects import enterprise_index, person_index
from tests.support.identities import new_id_number, new_uscc

RESIDENT_HEADER = list(KINDS["resident_id"].columns)


def resident_row(number: str, name: str = "赵敏", until: str = "长期") -> list[str]:
    return [number, name, "汉", "北京市东城区1号", "北京市公安局东城分局", "2015-01-01", until]


def household_row(number: str, relation: str = "户主") -> list[str]:
    return [number, "赵敏", "回", "110101000123", relation, "北京市东城区2号"]


def property_row(unit: str, owners: list[str], names: str, mortgaged: str = "否") -> list[str]:
    return [unit, "京(2024)东城区不动产权第0000001号", "北京市东城区3号", "75.25", "住宅",
            ";".join(owners), names, mortgaged]  # fmt: skip


def business_row(uscc: str, capital: str = "500000") -> list[str]:
    return [uscc, "北京某某科技有限公司", "有限责任公司", "赵敏", capital, "2020-02-02",
            "北京市东城区4号", "存续"]  # fmt: skip


def new_unit() -> str:
    return f"110101{secrets.randbelow(10**6):06d}GB{secrets.randbelow(10**5):05d}F" + (
        f"{secrets.randbelow(10**8):08d}"
    )


def write(
    tmp_path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8"
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path = tmp_path / f"{secrets.token_hex(4)}.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def load(kind: str, path: Path) -> ImportReport:
    return import_csv(services().cipher, kind, path)


def record_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RegistryRecord)) or 0


def test_a_good_file_of_each_kind_loads(ctx: Flask, tmp_path: Path) -> None:
    people = [new_id_number() for _ in range(3)]
    files = {
        "resident_id": (RESIDENT_HEADER, [resident_row(n) for n in people]),
        "household": (
            list(KINDS["household"].columns),
            [household_row(people[0]), household_row(people[1], "妻")],
        ),
        "property": (
            list(KINDS["property"].columns),
            [property_row(new_unit(), people[:2], "赵敏;钱红")],
        ),
        "business": (list(KINDS["business"].columns), [business_row(new_uscc())]),
    }
    expected = {"resident_id": 3, "household": 2, "property": 1, "business": 1}
    for kind, (header, rows) in files.items():
        report = load(kind, write(tmp_path, header, rows))
        assert report == ImportReport(created=expected[kind]), kind


def test_bad_rows_are_rejected_by_line_and_the_rest_load(ctx: Flask, tmp_path: Path) -> None:
    good = [new_id_number() for _ in range(3)]
    bad_check = good[1][:-1] + ("0" if good[1][-1] != "0" else "1")
    rows = [
        resident_row(good[0]),
        resident_row(bad_check),  # line 3
        resident_row(good[1], until="2001-01-01"),  # line 4: before valid_from
        resident_row(good[2], name=""),  # line 5
        resident_row(new_id_number(region="810000")),  # line 6: a permit
    ]
    report = load("resident_id", write(tmp_path, RESIDENT_HEADER, rows))
    assert report.created == 1
    assert report.rejected == [
        Rejected(3, "id_number: check character does not match"),
        Rejected(4, "valid_until: is not after valid_from"),
        Rejected(5, "name: is empty"),
        Rejected(6, "id_number: is a residence permit number, not a resident identity number"),
    ]
    assert all(bad_check not in r.reason and good[1] not in r.reason for r in report.rejected)
    assert find_record(services().cipher, "resident_id", good[0]) is not None
    assert find_record(services().cipher, "resident_id", good[1]) is None


def test_line_numbers_count_blank_lines_and_multi_line_cells(ctx: Flask, tmp_path: Path) -> None:
    first, second = new_id_number(), new_id_number()
    path = tmp_path / "lines.csv"
    path.write_text(
        ",".join(RESIDENT_HEADER) + "\n\n"  # line 2 is blank
        f'{first},赵敏,汉,"北京市\n东城区",某局,2015-01-01,\n'  # lines 3-4
        f"{second},赵敏,汉,北京市,某局,2015-01-01,,extra\n",  # line 5
        encoding="utf-8",
    )
    report = load("resident_id", path)
    assert report.rejected == [
        Rejected(3, "address: contains a control character (such as a line break)"),
        Rejected(5, "row: has 8 cells but the header has 7"),
    ]


def test_reimport_is_unchanged_and_a_change_bumps_the_version(ctx: Flask, tmp_path: Path) -> None:
    number, other = new_id_number(), new_id_number()
    original = [resident_row(number), resident_row(other)]
    assert load("resident_id", write(tmp_path, RESIDENT_HEADER, original)).created == 2
    record = find_record(services().cipher, "resident_id", number)
    assert record is not None
    record_id, cipher_before, updated_before = record.id, record.data_cipher, record.updated_at
    db.session.remove()

    again = load("resident_id", write(tmp_path, RESIDENT_HEADER, original))
    assert again == ImportReport(unchanged=2)
    same = db.session.get(RegistryRecord, record_id)
    assert same is not None and same.version == 1 and same.data_cipher == cipher_before
    db.session.remove()

    changed = [resident_row(number, name="赵敏敏"), resident_row(other)]
    assert load("resident_id", write(tmp_path, RESIDENT_HEADER, changed)) == ImportReport(
        updated=1, unchanged=1
    )
    updated = db.session.get(RegistryRecord, record_id)
    assert updated is not None and updated.version == 2 and updated.updated_at >= updated_before
    assert read_record(services().cipher, updated)["name"] == "赵敏敏"


def test_a_change_of_owners_moves_the_record_between_holders(ctx: Flask, tmp_path: Path) -> None:
    cipher = services().cipher
    unit, a, b, c = new_unit(), new_id_number(), new_id_number(), new_id_number()
    header = list(KINDS["property"].columns)
    load("property", write(tmp_path, header, [property_row(unit, [a, b], "甲;乙")]))
    report = load("property", write(tmp_path, header, [property_row(unit, [a, c], "甲;丙")]))
    assert report == ImportReport(updated=1)
    assert [r.kind for r in records_for_holder(person_index(cipher, a))] == ["property"]
    assert records_for_holder(person_index(cipher, b)) == []
    record = records_for_holder(person_index(cipher, c))[0]
    assert record.version == 2 and read_record(cipher, record)["owners"] == ["甲", "丙"]


def test_household_records_carry_a_keyed_index_of_their_household_number(
    ctx: Flask, tmp_path: Path
) -> None:
    # Members of a household are found by index; other kinds have none; the index is not data.
    cipher = services().cipher
    number, unit = new_id_number(), new_unit()
    header = list(KINDS["household"].columns)
    load("household", write(tmp_path, header, [household_row(number)]))
    load("resident_id", write(tmp_path, RESIDENT_HEADER, [resident_row(number)]))
    load("property", write(tmp_path, list(KINDS["property"].columns),
                           [property_row(unit, [number], "赵敏")]))  # fmt: skip
    record = find_record(cipher, "household", number)
    assert record is not None
    assert record.group_index == cipher.index("110101000123", "registry.household_number")
    assert "110101000123" not in record.group_index
    for kind, key in (("resident_id", number), ("property", unit)):
        other = find_record(cipher, kind, key)
        assert other is not None and other.group_index is None

    # Records imported before migration 0004 have no index: a re-import adds it, version kept.
    record.group_index = None
    db.session.commit()
    assert load("household", write(tmp_path, header, [household_row(number)])) == ImportReport(
        unchanged=1
    )
    db.session.refresh(record)
    assert record.version == 1 and record.group_index is not None

    moved = household_row(number)
    moved[header.index("household_number")] = "110101000999"
    assert load("household", write(tmp_path, header, [moved])) == ImportReport(updated=1)
    db.session.refresh(record)
    assert record.group_index == cipher.index("110101000999", "registry.household_number")


def test_a_duplicate_key_in_one_file_rejects_the_later_row(ctx: Flask, tmp_path: Path) -> None:
    number = new_id_number()
    rows = [resident_row(number), resident_row(new_id_number()), resident_row(number.lower())]
    report = load("resident_id", write(tmp_path, RESIDENT_HEADER, rows))
    assert report.created == 2
    assert report.rejected == [Rejected(4, "id_number: duplicate of line 2")]


def test_a_utf8_bom_is_accepted(ctx: Flask, tmp_path: Path) -> None:
    number = new_id_number()
    path = write(tmp_path, RESIDENT_HEADER, [resident_row(number)], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert load("resident_id", path) == ImportReport(created=1)


def test_a_file_that_is_not_utf8_writes_nothing(ctx: Flask, tmp_path: Path) -> None:
    number = new_id_number()
    path = write(tmp_path, RESIDENT_HEADER, [resident_row(number)], encoding="gb18030")
    before = record_count()
    with pytest.raises(ImportFileError, match="is not UTF-8 text") as caught:
        load("resident_id", path)
    assert number not in str(caught.value)
    assert record_count() == before


def test_a_missing_column_writes_nothing(ctx: Flask, tmp_path: Path) -> None:
    header = [c for c in RESIDENT_HEADER if c != "issuing_authority"]
    row = resident_row(new_id_number())
    del row[RESIDENT_HEADER.index("issuing_authority")]
    before = record_count()
    with pytest.raises(ImportFileError, match="lacks column"):
        load("resident_id", write(tmp_path, header, [row]))
    assert record_count() == before


def test_extra_columns_are_ignored(ctx: Flask, tmp_path: Path) -> None:
    header = ["remarks", *RESIDENT_HEADER]
    report = load(
        "resident_id", write(tmp_path, header, [["备注", *resident_row(new_id_number())]])
    )
    assert report == ImportReport(created=1)


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        ("resident_id", b"", "is empty"),
        ("vehicle", b"a,b\n", "unknown registry kind"),
        ("resident_id", b"id_number,id_number\n", "lacks column"),
        ("resident_id", (",".join([*RESIDENT_HEADER, "name"]) + "\n").encode(), "repeats column"),
        ("household", b'"id_number\n', "not valid CSV"),
    ],
)
def test_file_level_errors(
    ctx: Flask, tmp_path: Path, kind: str, content: bytes, message: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        load(kind, path)


def test_an_unreadable_file_is_a_file_level_error(ctx: Flask, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="cannot read"):
        load("resident_id", tmp_path / "missing.csv")


def test_data_is_encrypted_at_rest(ctx: Flask, tmp_path: Path) -> None:
    number = new_id_number()
    load("resident_id", write(tmp_path, RESIDENT_HEADER, [resident_row(number, name="孙悟空")]))
    record = find_record(services().cipher, "resident_id", number)
    assert record is not None
    raw = db.session.execute(
        text("SELECT * FROM registry_records WHERE id = :id"), {"id": record.id}
    ).one()
    stored = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in raw
    )
    for secret in ("孙悟空", number, number[6:14], "北京市东城区1号"):
        assert secret.encode() not in stored
    assert record.key_masked == number[:6] + "********" + number[-4:]
    assert read_record(services().cipher, record)["name"] == "孙悟空"


def test_records_are_found_by_the_holders_subject_index(ctx: Flask, tmp_path: Path) -> None:
    cipher = services().cipher
    person, co_owner, uscc = new_id_number(date(1980, 3, 3)), new_id_number(), new_uscc()
    load("resident_id", write(tmp_path, RESIDENT_HEADER, [resident_row(person)]))
    load("household", write(tmp_path, list(KINDS["household"].columns), [household_row(person)]))
    load(
        "property",
        write(tmp_path, list(KINDS["property"].columns),
              [property_row(new_unit(), [co_owner, person], "钱红;赵敏")]),
    )  # fmt: skip
    load("business", write(tmp_path, list(KINDS["business"].columns), [business_row(uscc)]))

    mine = records_for_holder(person_index(cipher, person))
    assert sorted(r.kind for r in mine) == ["household", "property", "resident_id"]
    id_card = next(r for r in mine if r.kind == "resident_id")
    assert read_record(cipher, id_card)["birth_date"] == "1980-03-03"
    assert [r.kind for r in records_for_holder(person_index(cipher, co_owner))] == ["property"]
    licence = records_for_holder(enterprise_index(cipher, uscc))
    assert [read_record(cipher, r)["uscc"] for r in licence] == [uscc]
    assert records_for_holder(person_index(cipher, uscc)) == []


def test_demo_seed_loads_the_demo_registries_once(ctx: Flask) -> None:
    seed()
    again = seed()["registries"]
    assert again == {
        "resident_id": {"created": 0, "updated": 0, "unchanged": 4, "rejected": 0},
        "household": {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0},
        "property": {"created": 0, "updated": 0, "unchanged": 4, "rejected": 0},
        "business": {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0},
        "social_insurance": {"created": 0, "updated": 0, "unchanged": 5, "rejected": 0},
        "social_insurance_unit": {"created": 0, "updated": 0, "unchanged": 3, "rejected": 0},
    }
    cipher = services().cipher
    li = records_for_holder(person_index(cipher, "360426199101010071"))
    assert sorted(r.kind for r in li) == [
        "household", "property", "property", "resident_id", *["social_insurance"] * 3
    ]  # fmt: skip
    company = records_for_holder(enterprise_index(cipher, "91110000600037341L"))
    # The demo platform's credit score needs its offices, one of them mortgaged (企业产权).
    assert sorted(r.kind for r in company) == [
        "business", "property", "property", *["social_insurance_unit"] * 3
    ]  # fmt: skip


# -- the command ------------------------------------------------------------------------------


@pytest.fixture()
def runner(tmp_path: Path) -> CliRunner:
    env = {
        "IDP_INSTANCE_DIR": str(tmp_path),
        "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "IDP_SECRET_KEY": new_secret(),
        "IDP_DATA_KEY": new_secret(),
        "IDP_INDEX_KEY": new_secret(),
    }
    cli = CliRunner(env=env)
    assert cli.invoke(main, ["db", "upgrade", "--json"]).exit_code == 0
    return cli


def run_import(runner: CliRunner, kind: str, path: Path, *extra: str) -> Result:
    return runner.invoke(main, ["registry", "import", kind, str(path), *extra])


def test_cli_exits_0_when_every_row_loads(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, RESIDENT_HEADER, [resident_row(new_id_number())])
    result = run_import(runner, "resident_id", path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "kind: resident_id",
        "created: 1",
        "updated: 0",
        "unchanged: 0",
        "rejected: 0",
    ]
    again = run_import(runner, "resident_id", path, "--json")
    assert json.loads(again.output) == {
        "kind": "resident_id", "created": 0, "updated": 0, "unchanged": 1, "rejected": []
    }  # fmt: skip


def test_cli_lists_rejects_by_line_and_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    number = new_id_number()
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    rows = [resident_row(number), resident_row(bad)]
    result = run_import(runner, "resident_id", write(tmp_path, RESIDENT_HEADER, rows))
    assert result.exit_code == 1
    assert "created: 1" in result.output
    assert "line 3: id_number: check character does not match" in result.output
    assert bad not in result.output and number not in result.output


def test_cli_file_level_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    number = new_id_number()
    not_utf8 = write(tmp_path, RESIDENT_HEADER, [resident_row(number)], encoding="gb18030")
    result = run_import(runner, "resident_id", not_utf8)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "not UTF-8" in result.output
    assert number not in result.output
    missing = write(tmp_path, RESIDENT_HEADER[:3], [resident_row(number)[:3]])
    assert run_import(runner, "resident_id", missing).exit_code == 2
    assert run_import(runner, "vehicle", missing).exit_code == 2
    header_only = run_import(runner, "resident_id", write(tmp_path, RESIDENT_HEADER, []), "--json")
    assert header_only.exit_code == 0 and json.loads(header_only.output)["created"] == 0
    # Nothing of the refused files was written: the number is still new.
    good = run_import(
        runner, "resident_id", write(tmp_path, RESIDENT_HEADER, [resident_row(number)])
    )
    assert good.exit_code == 0 and "created: 1" in good.output
