"""Which registry vouches for each value the financing platform shows (financing/evidence.py)."""

from __future__ import annotations

from typing import Any

from yihao_examples.financing.evidence import CLAIMS_REQUEST, TRUST_FRAMEWORK, Source, verified


def element(claims: dict[str, Any], source: str, framework: str = TRUST_FRAMEWORK) -> Any:
    record = {"type": "business", "source": {"name": source}}
    return {
        "verification": {
            "trust_framework": framework,
            "time": "2026-12-01T08:30:00Z",
            "evidence": [{"type": "electronic_record", "record": record}],
        },
        "claims": claims,
    }


def test_verified_values_replace_the_plain_ones_with_their_source() -> None:
    info = {
        "business_registration": {"business_status": "plain"},
        "verified_claims": [
            element({"business_registration": {"business_status": "存续"}}, "市场主体登记信息库"),
            element({"properties": []}, "不动产登记信息库"),
        ],
    }
    values, sources = verified(info)
    assert values == {"business_registration": {"business_status": "存续"}, "properties": []}
    assert sources["properties"] == Source("不动产登记信息库", "2026-12-01T08:30:00Z")
    assert "social_insurance" not in sources


def test_one_element_may_come_as_an_object() -> None:
    # OIDC4IDA 5.1: verified_claims is an object or an array of them.
    _, sources = verified({"verified_claims": element({"social_insurance": []}, "社会保险信息库")})
    assert sources["social_insurance"].registries == "社会保险信息库"


def test_another_trust_framework_or_claim_vouches_for_nothing_here() -> None:
    info = {
        "verified_claims": [
            element({"properties": [{"mortgaged": False}]}, "某机构", framework="de_aml"),
            element({"name": "某某公司"}, "市场主体登记信息库"),
            "not an element",
        ]
    }
    assert verified(info) == ({}, {})
    assert verified({}) == ({}, {})


def test_the_request_names_the_scored_claims_and_asks_for_evidence() -> None:
    asked = CLAIMS_REQUEST["userinfo"]["verified_claims"]
    assert set(asked["claims"]) == {"business_registration", "properties", "social_insurance"}
    assert asked["verification"]["trust_framework"] == {"value": TRUST_FRAMEWORK}
    assert asked["verification"]["evidence"][0]["record"] is None
