"""Registry row rules: each kind's data in the wire's JSON forms, and reasons that never leak."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from yihao.wire.fields import RECORD_FIELDS, encode_value

from idp.credentials.registries import (
    KINDS,
    Holder,
    RegistryRow,
    RowError,
    UnknownKind,
    parse_row,
)
from tests.support.identities import new_id_number, new_uscc

WANG = "11010519491231002X"  # female, born 1949-12-31
LI = "360426199101010071"  # male, born 1991-01-01
UNIT = "110105001001GB00001F00010001"
USCC = "91110000600037341L"


def resident(**changes: str) -> dict[str, str]:
    cells = {
        "id_number": WANG,
        "name": "王秀英",
        "ethnicity": "汉",
        "address": "北京市朝阳区建国路1号",
        "issuing_authority": "北京市公安局朝阳分局",
        "valid_from": "2010-05-20",
        "valid_until": "长期",
    }
    return cells | changes


def household(**changes: str) -> dict[str, str]:
    cells = {
        "id_number": LI,
        "name": "李明",
        "ethnicity": "汉",
        "household_number": "440113004521",
        "relation": "户主",
        "household_address": "广东省广州市番禺区市桥街道富华中路2号",
    }
    return cells | changes


def estate(**changes: str) -> dict[str, str]:
    cells = {
        "property_unit_number": UNIT,
        "certificate_number": "京(2021)朝阳区不动产权第0012345号",
        "location": "北京市朝阳区建国路1号院3号楼2单元501",
        "area": "89.50",
        "usage": "住宅",
        "owner_id_numbers": f"{LI}; {WANG}",
        "owner_names": "李明;王秀英",
        "mortgaged": "否",
    }
    return cells | changes


def business(**changes: str) -> dict[str, str]:
    cells = {
        "uscc": USCC,
        "enterprise_name": "北京一号通行科技有限公司",
        "enterprise_type": "有限责任公司(自然人投资或控股)",
        "legal_representative": "李明",
        "registered_capital": "10000000",
        "established": "2018-06-12",
        "address": "北京市朝阳区建国路1号",
        "business_status": "存续",
    }
    return cells | changes


FIVE = "养老保险;医疗保险;失业保险;工伤保险;生育保险"


def contributions(**changes: str) -> dict[str, str]:
    cells = {
        "id_number": LI,
        "name": "李明",
        "period": "2026-10",
        "employer_uscc": USCC,
        "insurance_types": FIVE,
        "contribution_base": "8000",
        "contribution_amount": "2816.00",
    }
    return cells | changes


def unit_contributions(**changes: str) -> dict[str, str]:
    cells = {
        "uscc": USCC,
        "enterprise_name": "北京一号通行科技有限公司",
        "period": "2026-10",
        "insured_headcount": "12",
        "contribution_amount": "33176.50",
    }
    return cells | changes


GOOD = {
    "resident_id": resident,
    "household": household,
    "property": estate,
    "business": business,
    "social_insurance": contributions,
    "social_insurance_unit": unit_contributions,
}


def reject(kind: str, cells: dict[str, str]) -> str:
    """Parse expecting a rejection; no identifier of the row may appear in the reason."""
    with pytest.raises(RowError) as caught:
        parse_row(kind, cells)
    reason = str(caught.value)
    for column in ("id_number", "owner_id_numbers", "uscc", "employer_uscc"):
        for identifier in cells.get(column, "").split(";"):
            if len(identifier.strip()) > 4:
                assert identifier.strip() not in reason
    return reason


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_good_row_holds_exactly_its_certificate_fields_in_wire_form(kind: str) -> None:
    row = parse_row(kind, GOOD[kind]())
    assert set(row.data) == set(RECORD_FIELDS[KINDS[kind].credential_type])
    for name, value in row.data.items():
        encode_value(name, value)


def test_resident_id_row_derives_sex_and_birth_date_from_the_number() -> None:
    row = parse_row("resident_id", resident())
    assert row.kind == "resident_id" and row.key == WANG
    assert row.key_masked == "110105********002X"
    assert row.holders == (Holder("person", WANG),)
    assert row.data["sex"] == 2 and row.data["birth_date"] == "1949-12-31"
    assert row.data["valid_from"] == "2010-05-20" and row.data["valid_until"] is None
    male = parse_row("resident_id", resident(id_number=LI, valid_until="2036-03-15"))
    assert male.data["sex"] == 1 and male.data["valid_until"] == "2036-03-15"


def test_a_lower_case_x_and_padding_are_normalised() -> None:
    row = parse_row("resident_id", resident(id_number=f"  {WANG.lower()} ", name=" 王秀英 "))
    assert row.key == WANG and row.data["id_number"] == WANG and row.data["name"] == "王秀英"


@pytest.mark.parametrize("until", ["", "长期", "  长期 "])
def test_an_empty_or_long_term_valid_until_means_no_end(until: str) -> None:
    assert parse_row("resident_id", resident(valid_until=until)).data["valid_until"] is None


def test_unknown_columns_in_the_cells_are_ignored() -> None:
    row = parse_row("household", household(remarks="备注"))
    assert "remarks" not in row.data and row.data["relation"] == "户主"


def test_household_row() -> None:
    child = new_id_number(date(2014, 10, 5))
    row = parse_row("household", household(id_number=child, relation="子"))
    assert row.data["birth_date"] == "2014-10-05" and row.data["relation"] == "子"
    assert row.holders == (Holder("person", child),)


def test_property_row_lists_owner_names_and_holds_every_owner() -> None:
    row = parse_row("property", estate())
    assert row.key == UNIT and row.key_masked == "11" + "*" * 24 + "01"
    assert row.data["owners"] == ["李明", "王秀英"]
    assert row.data["area"] == "89.5" and row.data["mortgaged"] is False
    assert row.holders == (Holder("person", LI), Holder("person", WANG))


@pytest.mark.parametrize(
    ("area", "stored"), [("89.50", "89.5"), ("120", "120"), ("120.00", "120"), ("0.05", "0.05")]
)
def test_areas_are_stored_in_one_canonical_form(area: str, stored: str) -> None:
    assert parse_row("property", estate(area=area)).data["area"] == stored


@pytest.mark.parametrize(
    ("cell", "value"), [("是", True), ("否", False), ("YES", True), ("no", False), ("True", True)]
)
def test_mortgaged_accepts_chinese_and_english(cell: str, value: bool) -> None:
    assert parse_row("property", estate(mortgaged=cell)).data["mortgaged"] is value


def test_business_row_is_held_by_the_enterprise() -> None:
    code = new_uscc()
    row = parse_row("business", business(uscc=code.lower()))
    assert row.key == code and row.data["uscc"] == code
    assert row.data["registered_capital"] == 10_000_000 and row.data["established"] == "2018-06-12"
    assert row.holders == (Holder("enterprise", code),)


@pytest.mark.parametrize(
    ("kind", "changes", "reason"),
    [
        (
            "resident_id",
            {"id_number": WANG[:-1] + "1"},
            "id_number: check character does not match",
        ),
        ("resident_id", {"id_number": WANG[:-1]}, "id_number: expected 18 characters, got 17"),
        ("resident_id", {"id_number": ""}, "id_number: is empty"),
        ("resident_id", {"name": "  "}, "name: is empty"),
        ("resident_id", {"address": "路" * 201}, "address: is longer than 200 characters"),
        ("resident_id", {"address": "a\nb"}, "address: contains a control character"),
        ("resident_id", {"valid_from": "2010/05/20"}, "valid_from: is not a date of the form"),
        ("resident_id", {"valid_from": "2010-02-30"}, "valid_from: is not a calendar date"),
        ("resident_id", {"valid_until": "2009-01-01"}, "valid_until: is not after valid_from"),
        ("resident_id", {"valid_until": "永久"}, "valid_until: is not a date"),
        ("household", {"relation": ""}, "relation: is empty"),
        ("property", {"property_unit_number": UNIT[:-1]}, "expected 28 characters, got 27"),
        ("property", {"property_unit_number": UNIT.lower()}, "position 13 is not a digit or upper"),
        ("property", {"area": "0"}, "area: must be greater than 0"),
        ("property", {"area": "-5"}, "area: is not a decimal number"),
        ("property", {"area": "1.234"}, "at most 2 places"),
        ("property", {"area": "NaN"}, "area: is not a decimal number"),
        ("property", {"owner_names": "李明"}, "owner_names: 1 names for 2 owner numbers"),
        ("property", {"owner_names": "李明;;王秀英"}, "owner_names: has an empty entry"),
        ("property", {"owner_id_numbers": f"{LI};{WANG[:-1]}0"}, "number 2: check character"),
        ("property", {"owner_id_numbers": f"{LI};{LI.lower()}"}, "number 2 repeats an earlier"),
        ("property", {"owner_id_numbers": f"{LI};{USCC[:-1]}0"}, "number 2: check character"),
        ("property", {"owner_id_numbers": f"{USCC};{USCC.lower()}"}, "number 2 repeats an"),
        ("property", {"mortgaged": "maybe"}, "mortgaged: must be one of 是/否/yes/no/true/false"),
        ("business", {"uscc": USCC[:-1] + "0"}, "uscc: check character does not match"),
        ("business", {"uscc": USCC[:-1] + "I"}, "uscc: character at position 18 is not allowed"),
        ("business", {"registered_capital": "1.5"}, "registered_capital: is not a whole number"),
        ("business", {"registered_capital": "-1"}, "registered_capital: is not a whole number"),
        ("business", {"established": ""}, "established: is empty"),
        ("social_insurance", {"id_number": LI[:-1] + "2"}, "id_number: check character does not"),
        ("social_insurance", {"name": ""}, "name: is empty"),
        ("social_insurance", {"period": "2026-1"}, "period: is not a month of the form YYYY-MM"),
        ("social_insurance", {"period": "2026/10"}, "period: is not a month of the form YYYY-MM"),
        ("social_insurance", {"period": "2026-10-01"}, "period: is not a month of the form"),
        ("social_insurance", {"period": "2026-13"}, "period: is not a calendar month"),
        ("social_insurance", {"period": "2026-00"}, "period: is not a calendar month"),
        ("social_insurance", {"employer_uscc": USCC[:-1] + "0"}, "employer_uscc: check character"),
        ("social_insurance", {"employer_uscc": ""}, "employer_uscc: is empty"),
        ("social_insurance", {"insurance_types": "养老保险;公积金"}, "entry 2 is not one of"),
        ("social_insurance", {"insurance_types": "医疗保险;医疗保险"}, "entry 2 repeats an"),
        ("social_insurance", {"insurance_types": "养老保险;"}, "insurance_types: has an empty"),
        ("social_insurance", {"contribution_base": "8,000"}, "is not an amount of yuan with at"),
        ("social_insurance", {"contribution_base": "0"}, "contribution_base: must be greater"),
        ("social_insurance", {"contribution_amount": "1.234"}, "amount of yuan with at most 2"),
        ("social_insurance", {"contribution_amount": "-5"}, "contribution_amount: is not an"),
        ("social_insurance", {"contribution_amount": "0.00"}, "amount: must be greater than 0"),
        ("social_insurance", {"contribution_amount": "8000.01"}, "is more than contribution_base"),
        ("social_insurance_unit", {"uscc": USCC[:-1] + "0"}, "uscc: check character does not"),
        ("social_insurance_unit", {"enterprise_name": ""}, "enterprise_name: is empty"),
        ("social_insurance_unit", {"period": "10/2026"}, "period: is not a month of the form"),
        ("social_insurance_unit", {"insured_headcount": "1.5"}, "is not a whole number of people"),
        ("social_insurance_unit", {"insured_headcount": "0"}, "headcount: must be greater than 0"),
        ("social_insurance_unit", {"insured_headcount": ""}, "insured_headcount: is empty"),
        ("social_insurance_unit", {"contribution_amount": "0"}, "must be greater than 0"),
        ("social_insurance_unit", {"contribution_amount": "壹万"}, "is not an amount of yuan"),
    ],
)
def test_rejections_name_the_column_and_the_problem(
    kind: str, changes: dict[str, str], reason: str
) -> None:
    assert reason in reject(kind, GOOD[kind](**changes))


def test_social_insurance_row_is_one_month_of_one_person() -> None:
    row = parse_row("social_insurance", contributions(employer_uscc=USCC.lower()))
    assert row.key == f"{LI}/2026-10" and row.key_masked == "360426********0071/2026-10"
    assert row.holders == (Holder("person", LI),)
    assert row.data["employer_uscc"] == USCC
    assert row.data["contribution_base"] == "8000" and row.data["contribution_amount"] == "2816"
    assert LI not in repr(row)


def test_insurance_types_are_kept_in_one_order() -> None:
    # A re-export listing the same insurances in another order is the same record.
    row = parse_row("social_insurance", contributions(insurance_types="工伤保险; 养老保险"))
    assert row.data["insurance_types"] == ["养老保险", "工伤保险"]


def test_a_permit_holder_may_be_insured() -> None:
    permit = new_id_number(region="810000")
    row = parse_row("social_insurance", contributions(id_number=permit))
    assert row.holders == (Holder("person", permit),)


def test_social_insurance_unit_row_is_one_month_of_one_enterprise() -> None:
    row = parse_row("social_insurance_unit", unit_contributions())
    assert row.key == f"{USCC}/2026-10" and row.key_masked == "911100********341L/2026-10"
    assert row.holders == (Holder("enterprise", USCC),)
    assert row.data["insured_headcount"] == 12 and row.data["contribution_amount"] == "33176.5"


@pytest.mark.parametrize("kind", ["social_insurance", "social_insurance_unit"])
def test_monthly_registries_are_keyed_by_holder_and_month(kind: str) -> None:
    assert KINDS[kind].key_columns == (KINDS[kind].key_column, "period")
    assert parse_row(kind, GOOD[kind](period="2026-09")).key != parse_row(kind, GOOD[kind]()).key


def test_a_residence_permit_number_has_no_population_registry_entry() -> None:
    permit = new_id_number(region="810000")
    reason = reject("household", household(id_number=permit))
    assert reason == "id_number: is a residence permit number, not a resident identity number"


def test_a_permit_holder_may_own_property() -> None:
    permit = new_id_number(region="810000")
    row = parse_row("property", estate(owner_id_numbers=f"{LI};{permit}"))
    assert row.holders[1] == Holder("person", permit)


def test_an_enterprise_may_own_property() -> None:
    # 企业产权: a unified social credit code among the owners makes the enterprise a holder.
    code = new_uscc()
    row = parse_row("property", estate(owner_id_numbers=f"{LI};{code}", owner_names="李明;某公司"))
    assert row.holders == (Holder("person", LI), Holder("enterprise", code))
    assert row.data["owners"] == ["李明", "某公司"]


def test_a_missing_cell_reads_as_empty() -> None:
    cells = resident()
    del cells["ethnicity"]
    assert reject("resident_id", cells) == "ethnicity: is empty"


def test_unknown_kind() -> None:
    with pytest.raises(UnknownKind, match="expected one of resident_id, household"):
        parse_row("vehicle", {})


def test_rows_and_holders_do_not_show_identifiers_in_repr() -> None:
    row = parse_row("property", estate())
    assert isinstance(row, RegistryRow)
    assert LI not in repr(row) and UNIT not in repr(row) and LI not in repr(row.holders)
    assert repr(row) == f"RegistryRow(property, {row.key_masked!r})"


def test_operations_guide_lists_each_registrys_columns() -> None:
    # The columns follow from yihao.wire.fields; the guide an operator prepares files from must too.
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text("utf-8")
    rows = re.findall(r"^\| `([a-z_]+)` \| [^|]+ \| `([a-z_, ]+)` \| `([a-z_, ]+)`", guide, re.M)
    assert {
        kind: (tuple(key.split(", ")), tuple(columns.split(", "))) for kind, key, columns in rows
    } == {name: (kind.key_columns, kind.columns) for name, kind in KINDS.items()}
