"""Demo data for ``make run``: a few citizens, one enterprise and one client, printed with their
passwords. Numbers are the published examples of GB 11643 and GB 32100, not real people's."""

from __future__ import annotations

from importlib.resources import as_file, files
from typing import Any

from idp.config import ConfigError
from idp.credentials.importer import import_csv
from idp.credentials.registries import KINDS
from idp.identifiers import parse_resident_id, parse_uscc
from idp.oauth.registration import ClientSpec, register_client
from idp.services import services
from idp.store.db import db
from idp.store.models import Client
from idp.store.subjects import Contact, add_enterprise, add_person, find_person

DEMO_PASSWORD = "yihao-demo-2026"

CITIZENS = (
    ("11010519491231002X", "王秀英", "13800000001", "北京市朝阳区建国路1号"),
    ("360426199101010071", "李明", "13800000002", "江西省九江市德安县宝塔路8号"),
    ("44011320141005001X", "陈小宇", None, "广东省广州市番禺区市桥街2号"),
)
#: In the population registry (with mobile 13800000004) but without an account: she registers
#: herself at /register, with the code the development outbox (/dev/sms-outbox) shows.
UNREGISTERED = ("110108198503150026", "赵敏")
ENTERPRISE = ("91110000600037341L", "北京一号通行科技有限公司", "360426199101010071")
DEMO_CLIENT = "演示服务 Demo service"


def seed() -> dict[str, Any]:
    svc = services()
    if svc.settings.production:
        # Anyone who read the docs could sign in as a demo citizen.
        raise ConfigError("production refuses demo data: its citizens share a published password")
    created: list[str] = []
    for number, name, phone, address in CITIZENS:
        rid = parse_resident_id(number)
        if find_person(svc.cipher, rid.number) is None:
            contact = Contact(phone=phone, address={"formatted": address, "country": "CN"})
            add_person(svc.cipher, rid, name, svc.passwords.hash(DEMO_PASSWORD), contact)
            created.append(rid.masked)
    db.session.commit()
    uscc, org_name, rep_number = ENTERPRISE
    rep = find_person(svc.cipher, rep_number)
    assert rep is not None
    if not rep.enterprises:
        add_enterprise(svc.cipher, parse_uscc(uscc), org_name, rep)
        db.session.commit()
    client_info = _demo_client()
    return {
        "citizens": [n for n, *_ in CITIZENS],
        "password": DEMO_PASSWORD,
        "enterprise": uscc,
        "new": created,
        "can_register": " ".join(UNREGISTERED),
        "registries": _demo_registries(),
        **client_info,
    }


def _demo_registries() -> dict[str, dict[str, int]]:
    """Load the demo registry exports through the real importer, so the demo exercises it too."""
    summary: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        with as_file(files("idp") / "demo_registries" / f"{kind}.csv") as path:
            report = import_csv(services().cipher, kind, path)
        summary[kind] = {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": len(report.rejected),
        }
    return summary


def _demo_client() -> dict[str, Any]:
    existing = Client.query.filter_by(name=DEMO_CLIENT).first()
    if existing is not None:
        return {"client_id": existing.client_id, "client_secret": "(shown when it was created)"}
    client, secret = register_client(
        ClientSpec(
            name=DEMO_CLIENT,
            redirect_uris=["http://127.0.0.1:8000/callback"],
            post_logout_redirect_uris=["http://127.0.0.1:8000/"],
            scope=(
                "openid profile phone address id_number enterprise household property"
                " social_insurance"
            ),
            purposes={
                "profile": "办理业务时核对身份",
                "id_number": "按规定登记证件号码",
                "household": "核验子女入学的户籍条件",
                "property": "核验子女入学的房产条件",
                "social_insurance": "评估企业融资的参保缴费情况",
            },
        )
    )
    return {"client_id": client.client_id, "client_secret": secret}
