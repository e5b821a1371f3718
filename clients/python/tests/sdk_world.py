"""A small e-certificate world for SDK tests: a root, an issuer, a status list, a holder, a clock.

Everything is built with the same functions the provider uses (``yihao.pki`` and ``yihao.wire``),
so the verifier is tested against real certificates and tokens, not mocks.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sdk_identities import new_uscc
from yihao.holder import Holder
from yihao.pki import issue_issuer_certificate, issue_trust_list_certificate
from yihao.trust import TrustAnchors, key_id
from yihao.verifier import Verifier
from yihao.wire.credential import CredentialClaims, StatusRef, sign_credential
from yihao.wire.fields import CredentialType
from yihao.wire.presentation import time_step
from yihao.wire.status_list import StatusListToken, encode_token, pack
from yihao.wire.trust_list import encode_trust_list

ISSUER_URL = "http://127.0.0.1:5000"
LIST_URL = ISSUER_URL + "/sl/1"
REVOKED_INDEX = 7
VALID_INDEX = 5
LIST_SIZE = 1024
TTL = 3600
NAME = "张三丰"
ISSUER_NAME = "测试签发机构"


class Clock:
    """A clock the test moves by hand, so time windows are tested to the second."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Issuer:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    code: str

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def kid(self) -> bytes:
        return key_id(self.der)


def make_issuer(
    root_key: ec.EllipticCurvePrivateKey,
    root: x509.Certificate,
    *,
    trust_list: bool = False,
    **kw: Any,
) -> Issuer:
    """A credential issuer, or with ``trust_list`` the key that signs the trust list."""
    key = ec.generate_private_key(ec.SECP256R1())
    options: dict[str, Any] = {
        "name": ISSUER_NAME,
        "issuer_code": new_uscc(),
        "issuer_url": ISSUER_URL,
        "valid_days": 365,
    }
    options.update(kw)
    profile = issue_trust_list_certificate if trust_list else issue_issuer_certificate
    cert = profile(root_key, root, key.public_key(), **options)
    return Issuer(key, cert, options["issuer_code"])


@dataclass
class World:
    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    issuer: Issuer
    now: int  # a moment well inside every certificate's validity
    id_number: str
    type_code: str
    holder: Holder = field(default_factory=Holder)
    trust_signer: Issuer | None = None

    def __post_init__(self) -> None:
        if self.trust_signer is None:
            self.trust_signer = make_issuer(self.root_key, self.root, trust_list=True)

    @property
    def anchors(self) -> TrustAnchors:
        return TrustAnchors([self.root])

    def new_issuer(
        self, root: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None = None, **kw: Any
    ) -> Issuer:
        return make_issuer(*(root or (self.root_key, self.root)), **kw)

    def claims(self, **changes: Any) -> CredentialClaims:
        base = CredentialClaims(
            type=CredentialType.ID_CARD,
            profile=1,
            serial=42,
            version=1,
            not_before=self.now - 86400,
            expires=self.now + 30 * 86400,
            holder_key=self.holder.public_point,
            status=StatusRef(VALID_INDEX, "sl/1"),
            fields={"name": NAME, "id_number": self.id_number},
        )
        return replace(base, **changes)

    def credential(self, issuer: Issuer | None = None, **changes: Any) -> bytes:
        signer = issuer or self.issuer
        return sign_credential(self.claims(**changes), signer.kid, signer.key)

    def text(self, credential: bytes | None = None, *, at: float | None = None) -> str:
        return self.holder.present(credential or self.credential(), self.now if at is None else at)

    def status_list(
        self,
        issuer: Issuer | None = None,
        *,
        revoked: Iterable[int] = (REVOKED_INDEX,),
        uri: str = LIST_URL,
        **changes: Any,
    ) -> bytes:
        signer = issuer or self.issuer
        token = StatusListToken(
            uri=uri,
            issued_at=self.now,
            expires=self.now + 7 * 86400,
            ttl=TTL,
            bits=pack(revoked, LIST_SIZE),
        )
        return encode_token(replace(token, **changes), signer.kid, signer.key)

    def trust_list(self, *issuers: Issuer, sequence: int = 1) -> bytes:
        """The trust list as the provider serves it: signed by the world's trust-list key."""
        return self.sign_trust(self.trust_document(*issuers, sequence=sequence))

    def sign_trust(self, document: dict[str, Any], signer: Issuer | None = None) -> bytes:
        key = signer or self.trust_signer
        assert key is not None
        return encode_trust_list(document, key.kid, key.der, key.key)

    def trust_document(self, *issuers: Issuer, sequence: int = 1) -> dict[str, Any]:
        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode("ascii")

        return {
            "issuer": ISSUER_URL,
            "roots": [b64(self.root.public_bytes(serialization.Encoding.DER))],
            "issuer_certificates": [b64(i.der) for i in (issuers or (self.issuer,))],
            "status_lists": [LIST_URL],
            "types": {
                "1": {
                    "name": "id_card",
                    "label_zh": "居民身份证",
                    "label_en": "Resident identity card",
                    "type_code": self.type_code,
                }
            },
            "profiles": {
                "1": {
                    "name": "id_card.housing_fund",
                    "type": 1,
                    "fields": ["name", "id_number"],
                    "label_zh": "公积金提取",
                    "label_en": "Housing fund withdrawal",
                }
            },
            "issued_at": self.now,
            "sequence": sequence,
        }

    def verifier(self, clock: Clock | None = None, **kw: Any) -> Verifier:
        """A verifier at ``now`` with the trust list and the status list loaded."""
        verifier = Verifier(self.anchors, clock=clock or Clock(self.now), **kw)
        verifier.load_trust_list(self.trust_list())
        verifier.load_status_list(self.status_list())
        return verifier

    @property
    def step(self) -> int:
        return time_step(self.now)


#: What the ``server`` fixture answers at a path: (content type, body), optionally a status.
Route = tuple[str, bytes] | tuple[str, bytes, int]


@dataclass(frozen=True)
class Seen:
    """One request as the ``server`` fixture received it; ``form`` is the parsed POST body."""

    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass(frozen=True)
class Served:
    """A local HTTP server (the ``server`` fixture): ``routes`` maps a path to its response (for
    GET and POST alike), and ``seen`` lists every request in the order it arrived."""

    url: str
    routes: dict[str, Route]
    seen: list[Seen] = field(default_factory=list)

    def json(self, path: str, document: Any, status: int = 200) -> str:
        """Answer ``document`` as JSON at ``path``; its URL."""
        self.routes[path] = ("application/json", json.dumps(document).encode(), status)
        return self.url + path

    def play_provider(self, scope: str = "openid") -> str:
        """The provider's discovery, token and revocation endpoints; the issuer URL. The token
        endpoint answers every request with the same new tokens (access ``at``, refresh ``rt2``)
        and ``scope``; set ``routes["/token"]`` for another answer."""
        issuer = self.url
        self.json(
            "/.well-known/openid-configuration",
            {
                "issuer": issuer,
                "authorization_endpoint": issuer + "/authorize",
                "token_endpoint": issuer + "/token",
                "revocation_endpoint": issuer + "/revoke",
                "end_session_endpoint": issuer + "/logout",
                "jwks_uri": issuer + "/jwks.json",
                "id_token_signing_alg_values_supported": ["RS256"],
            },
        )
        tokens = {"access_token": "at", "token_type": "Bearer", "expires_in": 600}
        self.json("/token", {**tokens, "refresh_token": "rt2", "scope": scope})
        self.json("/revoke", {})
        return issuer

    def publish(self, world: World) -> str:
        """The world's trust list and status list, laid out as the provider does; the trust URL."""
        trust = world.trust_document()
        trust["status_lists"] = [self.url + "/sl/1"]
        self.routes["/credentials/trust"] = ("application/cose", world.sign_trust(trust))
        self.routes["/sl/1"] = ("application/statuslist+cwt", world.status_list())
        return self.url + "/credentials/trust"
