"""The certificate catalogue the provider issues from: the built-in default, or an operator's file.

The default lives here, beside what it describes, rather than in ``idp.config``, which only knows
where a replacement file is (``IDP_CATALOGUE_FILE``). The catalogue is read and checked once, when
the services are built (``idp.services``), so a bad file stops start-up instead of a request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from yihao.wire.fields import RECORD_FIELDS, CredentialType

from idp.credentials.profiles import Catalogue, CatalogueError, load_catalogue


def _all_fields(type_: CredentialType) -> list[str]:
    """A "full" profile: every field of the type except answers derived at issuance."""
    return list(RECORD_FIELDS[type_])


#: Certificate types with their GB/T 36904 type codes, and the purpose profiles counters use.
#: Profile ids travel in QR codes: never reuse one for a different field set.
DEFAULT_CATALOGUE: dict[str, Any] = {
    "types": [
        {
            "type": "id_card",
            "type_code": "11100000000013338W011",
            "label_zh": "居民身份证",
            "label_en": "Resident identity card",
        },
        {
            "type": "household",
            "type_code": "11100000000013338W012",
            "label_zh": "户口登记",
            "label_en": "Household register entry",
        },
        {
            "type": "property",
            "type_code": "11100000000013338W021",
            "label_zh": "不动产权证书",
            "label_en": "Property certificate",
        },
        {
            "type": "business_licence",
            "type_code": "11100000000013338W031",
            "label_zh": "营业执照",
            "label_en": "Business licence",
        },
        {
            "type": "social_insurance",
            "type_code": "11100000000013338W041",
            "label_zh": "个人社保缴费记录",
            "label_en": "Social insurance contributions (person)",
        },
        {
            "type": "social_insurance_unit",
            "type_code": "11100000000013338W042",
            "label_zh": "单位社保缴费记录",
            "label_en": "Social insurance contributions (enterprise)",
        },
    ],
    "profiles": [
        {
            "id": 1,
            "name": "id_card.housing_fund",
            "fields": ["name", "id_number"],
            "label_zh": "住房公积金提取",
            "label_en": "Housing-fund withdrawal",
        },
        {
            "id": 2,
            "name": "id_card.age_check",
            "fields": ["over_18"],
            "label_zh": "年龄核验（是否年满18周岁）",
            "label_en": "Age check (18 or over)",
        },
        {
            "id": 3,
            "name": "id_card.full",
            "fields": _all_fields(CredentialType.ID_CARD),
            "label_zh": "身份证全部信息",
            "label_en": "Whole identity card",
        },
        {
            "id": 4,
            "name": "household.enrolment",
            "fields": ["name", "birth_date", "household_address"],
            "label_zh": "入学报名",
            "label_en": "School enrolment",
        },
        {
            "id": 5,
            "name": "household.full",
            "fields": _all_fields(CredentialType.HOUSEHOLD),
            "label_zh": "户口登记全部信息",
            "label_en": "Whole household entry",
        },
        {
            "id": 6,
            "name": "property.transaction",
            "fields": ["property_unit_number", "location", "area", "owners", "mortgaged"],
            "label_zh": "不动产交易与抵押核验",
            "label_en": "Property sale and mortgage check",
        },
        {
            "id": 7,
            "name": "property.full",
            "fields": _all_fields(CredentialType.PROPERTY),
            "label_zh": "不动产权证书全部信息",
            "label_en": "Whole property certificate",
        },
        {
            "id": 8,
            "name": "business_licence.financing",
            "fields": [
                "uscc",
                "enterprise_name",
                "legal_representative",
                "registered_capital",
                "established",
                "business_status",
            ],
            "label_zh": "企业融资",
            "label_en": "Enterprise financing",
        },
        {
            "id": 9,
            "name": "business_licence.full",
            "fields": _all_fields(CredentialType.BUSINESS_LICENCE),
            "label_zh": "营业执照全部信息",
            "label_en": "Whole business licence",
        },
        {
            "id": 10,
            "name": "social_insurance.full",
            "fields": _all_fields(CredentialType.SOCIAL_INSURANCE),
            "label_zh": "个人社保缴费记录全部信息",
            "label_en": "Whole social insurance record (person)",
        },
        {
            "id": 11,
            "name": "social_insurance_unit.full",
            "fields": _all_fields(CredentialType.SOCIAL_INSURANCE_UNIT),
            "label_zh": "单位社保缴费记录全部信息",
            "label_en": "Whole social insurance record (enterprise)",
        },
    ],
}


def read_catalogue(path: Path | None) -> Catalogue:
    """The catalogue in ``path`` (a JSON object of the default's shape), or the default; checked.

    CatalogueError says what is wrong; ``idp.services`` turns it into a start-up ConfigError.
    """
    if path is None:
        return load_catalogue(DEFAULT_CATALOGUE)
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"{path} could not be read as JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise CatalogueError(f"{path} must hold a JSON object with types and profiles")
    return load_catalogue(loaded)
