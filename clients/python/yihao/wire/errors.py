"""Every way a presentation can fail, each with a stable name a counter can log and show."""

from __future__ import annotations

from enum import StrEnum


class Failure(StrEnum):
    """The checks of docs/formats.md "Verifying", in the order a verifier runs them."""

    NO_QR = "no_qr"  # an image holds no readable QR code
    TOO_LONG = "too_long"  # more text than any QR code can hold
    PREFIX = "bad_prefix"  # not "YH1:"
    BASE45 = "bad_base45"
    ZLIB = "bad_zlib"
    CBOR = "bad_cbor"  # not well-formed CBOR, or not the structure the format defines
    CLAIMS = "bad_claims"  # CWT claims missing, of the wrong type, or an unknown field
    UNKNOWN_KEY = "unknown_key_id"  # no trusted issuer certificate has this key id
    ISSUER_SIGNATURE = "bad_issuer_signature"
    CHAIN = "bad_certificate_chain"  # issuer certificate not valid under a pinned root
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    HOLDER_SIGNATURE = "bad_holder_signature"
    STALE = "stale_time_step"  # holder signature good but more than 60 s away from now
    REPLAY = "replay"  # this credential and time step were already shown here
    REVOKED = "revoked"
    STATUS_UNKNOWN = "status_unknown"  # no status list, or the cached one is past its ttl


class FormatError(ValueError):
    """Decoding stopped at ``failure``; ``detail`` never contains a field value."""

    def __init__(self, failure: Failure, detail: str) -> None:
        super().__init__(f"{failure.value}: {detail}")
        self.failure = failure
        self.detail = detail
