"""Certificate types as the province catalogues them, and the purpose profiles counters ask for.

A purpose profile is a named subset of one certificate type's fields, fitted to one kind of
counter (housing-fund withdrawal needs a name and a number, an age check only "over 18"). It
replaces per-claim selective disclosure: one small signed credential per purpose keeps the QR
code small and shows the citizen, in plain words, exactly what this counter will see. Profiles
and type codes are configuration (``idp.credentials.catalogue``); this module validates and
indexes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yihao.wire.fields import TYPE_FIELDS, CredentialType

_TYPE_CODE = re.compile(r"[0-9A-Z]{18}[0-9]{3}")  # issuing department's USCC + sequence
_NAME = re.compile(r"[a-z_]+\.[a-z_]+")


class CatalogueError(ValueError):
    """The configured catalogue is inconsistent; raised at start-up, never per request."""


@dataclass(frozen=True)
class CertificateType:
    type: CredentialType
    name: str
    type_code: str  # GB/T 36904 证照类型代码
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Profile:
    id: int  # travels in the QR code; never reused for another meaning
    name: str  # "<type name>.<purpose>", e.g. id_card.housing_fund
    type: CredentialType
    fields: tuple[str, ...]
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Catalogue:
    types: Mapping[CredentialType, CertificateType]
    profiles: Mapping[int, Profile]

    def profiles_for(self, type_: CredentialType) -> list[Profile]:
        return [p for p in self.profiles.values() if p.type == type_]

    def profile_named(self, name: str) -> Profile | None:
        return next((p for p in self.profiles.values() if p.name == name), None)

    def published(self) -> dict[str, Any]:
        """The catalogue as the trust list publishes it to verifiers (docs/formats.md)."""
        return {
            "types": {
                str(int(t.type)): {
                    "name": t.name,
                    "type_code": t.type_code,
                    "label_zh": t.label_zh,
                    "label_en": t.label_en,
                }
                for t in self.types.values()
            },
            "profiles": {
                str(p.id): {
                    "name": p.name,
                    "type": int(p.type),
                    "fields": list(p.fields),
                    "label_zh": p.label_zh,
                    "label_en": p.label_en,
                }
                for p in self.profiles.values()
            },
        }


def _certificate_type(raw: Mapping[str, Any]) -> CertificateType:
    try:
        type_ = CredentialType[str(raw["type"]).upper()]
    except KeyError:
        raise CatalogueError(f"unknown certificate type {raw.get('type')!r}") from None
    code = str(raw.get("type_code", ""))
    if not _TYPE_CODE.fullmatch(code):
        raise CatalogueError(f"{type_.name.lower()}: type_code is 18 code characters + 3 digits")
    return CertificateType(type_, type_.name.lower(), code, raw["label_zh"], raw["label_en"])


def _profile(raw: Mapping[str, Any], types: Mapping[str, CertificateType]) -> Profile:
    name = str(raw.get("name", ""))
    type_name = name.split(".", 1)[0]
    if not _NAME.fullmatch(name) or type_name not in types:
        raise CatalogueError(f"profile {name!r}: name is '<certificate type>.<purpose>'")
    type_ = types[type_name].type
    fields = tuple(raw.get("fields", ()))
    unknown = set(fields) - set(TYPE_FIELDS[type_])
    if not fields or unknown:
        raise CatalogueError(f"profile {name}: fields not in {type_name}: {sorted(unknown)}")
    profile_id = raw.get("id")
    if not isinstance(profile_id, int) or not 0 < profile_id < 2**16:
        raise CatalogueError(f"profile {name}: id is an integer from 1 to 65535")
    return Profile(profile_id, name, type_, fields, raw["label_zh"], raw["label_en"])


def load_catalogue(raw: Mapping[str, Any]) -> Catalogue:
    try:
        types = {t.name: t for t in map(_certificate_type, raw["types"])}
        profiles = [_profile(p, types) for p in raw["profiles"]]
    except (KeyError, TypeError) as exc:
        raise CatalogueError(f"catalogue entry lacks {exc}") from None
    by_id = {p.id: p for p in profiles}
    if len(by_id) != len(profiles) or len({p.name for p in profiles}) != len(profiles):
        raise CatalogueError("profile ids and names must be unique")
    return Catalogue({t.type: t for t in types.values()}, by_id)
