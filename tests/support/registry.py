"""Population-registry records for registration tests: a fresh number, its name and mobile."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from idp.credentials.registries import parse_row
from idp.services import services
from idp.store.db import db
from idp.store.registry import upsert_record
from tests.support.identities import new_id_number


@dataclass(frozen=True)
class OnRecord:
    number: str
    name: str
    mobile: str | None


def id_card_cells(number: str, name: str, mobile: str | None) -> dict[str, str]:
    return {
        "id_number": number,
        "name": name,
        "ethnicity": "汉",
        "address": "北京市海淀区中关村大街27号",
        "issuing_authority": "北京市公安局海淀分局",
        "valid_from": "2015-06-01",
        "valid_until": "长期",
        "mobile": mobile or "",
    }


def put_on_record(
    app: Flask, name: str = "赵敏", mobile: str | None = None, number: str | None = None
) -> OnRecord:
    number = number or new_id_number()
    mobile = mobile if mobile is not None else "139" + number[-8:].replace("X", "0")
    with app.app_context():
        row = parse_row("resident_id", id_card_cells(number, name, mobile or None))
        upsert_record(services().cipher, row)
        db.session.commit()
    return OnRecord(number, name, mobile or None)
