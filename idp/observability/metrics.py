"""The provider's Prometheus metrics, one function per thing counted.

``idp serve`` forks its Granian workers (the start method is ``fork`` on Linux) from the process
that ran the ``idp`` command, which imports nearly all of ``idp``. prometheus_client decides at
its own import whether values go to per-process files (``PROMETHEUS_MULTIPROC_DIR``) or stay in
memory, so it must first be imported in a worker, after ``idp serve`` set that variable
(``idp.observability.multiprocess``). Hence nothing here imports it at module level: the
instruments are made on first use, which happens in a worker answering a request.

Labels take only values the code names (Flask endpoint names, grant types, methods, reasons),
never a raw path or anything a client sends, so the number of series stays bounded.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

#: What prometheus_client reads to write each process's values to files in that directory.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Latency buckets in seconds: a page or token answer takes milliseconds, a sign-in's Argon2id
#: tens of them, a flood's queue up to seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class _Instruments:
    requests: Counter
    latency: Histogram
    tokens: Counter
    sign_ins: Counter
    throttled: Counter
    argon2_waiting: Gauge
    pool_checked_out: Gauge
    connections_lost: Counter
    credentials_issued: Counter
    certificates_revoked: Counter
    status_list_signed: Gauge
    certificate_expiry: Gauge


@functools.cache
def _instruments() -> _Instruments:
    # Imported here, not at the top: see the module docstring.
    from prometheus_client import Counter, Gauge, Histogram

    return _Instruments(
        requests=Counter(
            "idp_http_requests", "HTTP requests answered", ["endpoint", "method", "status"]
        ),
        latency=Histogram(
            "idp_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
        ),
        tokens=Counter("idp_tokens_issued", "Tokens issued at the token endpoint", ["grant_type"]),
        sign_ins=Counter("idp_sign_ins", "Sign-in attempts decided", ["method", "result"]),
        throttled=Counter("idp_throttled_requests", "Requests refused by a throttle", ["gate"]),
        argon2_waiting=Gauge(
            "idp_argon2_queue_length",
            "Password hashes waiting for an Argon2id thread",
            multiprocess_mode="livesum",
        ),
        pool_checked_out=Gauge(
            "idp_db_pool_checked_out",
            "Database connections checked out of the pool",
            multiprocess_mode="livesum",
        ),
        connections_lost=Counter(
            "idp_db_connections_lost",
            "Requests answered 503 because their database connection died under them",
            ["endpoint"],
        ),
        credentials_issued=Counter(
            "idp_credentials_issued", "E-certificate credentials issued", ["type"]
        ),
        certificates_revoked=Counter(
            "idp_certificates_revoked", "E-certificates revoked", ["reason", "by"]
        ),
        status_list_signed=Gauge(
            "idp_status_list_signed_timestamp_seconds",
            "When the newest status list was signed (Unix time)",
            multiprocess_mode="max",
        ),
        certificate_expiry=Gauge(
            "idp_issuer_certificate_expiry_seconds",
            "Seconds until the active certificate of a root-certified key expires",
            ["purpose"],
            multiprocess_mode="livemostrecent",
        ),
    )


#: HTTP methods counted by name; anything else a client invents is counted as "other".
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_answered(endpoint: str, method: str, status: int, seconds: float) -> None:
    found = _instruments()
    method = method if method in _METHODS else "other"
    found.requests.labels(endpoint, method, str(status)).inc()
    found.latency.labels(endpoint).observe(seconds)


def token_issued(grant_type: str) -> None:
    _instruments().tokens.labels(grant_type).inc()


def sign_in(method: str, succeeded: bool) -> None:
    _instruments().sign_ins.labels(method, "success" if succeeded else "failure").inc()


def throttled(gate: str) -> None:
    _instruments().throttled.labels(gate).inc()


def argon2_waiting(change: int) -> None:
    _instruments().argon2_waiting.inc(change)


def pool_checked_out(change: int) -> None:
    _instruments().pool_checked_out.inc(change)


def connection_lost(endpoint: str) -> None:
    _instruments().connections_lost.labels(endpoint).inc()


def credential_issued(credential_type: str) -> None:
    _instruments().credentials_issued.labels(credential_type).inc()


def certificate_revoked(reason: str, by: str) -> None:
    _instruments().certificates_revoked.labels(reason, by).inc()


def status_list_signed(at: float) -> None:
    _instruments().status_list_signed.set(at)


def certificate_expiry(purpose: str, seconds: float) -> None:
    _instruments().certificate_expiry.labels(purpose).set(seconds)


def exposition() -> tuple[bytes, str]:
    """The text format of every worker's values (multiprocess) or this process's; and its type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    _instruments()  # every metric appears, at zero, before its first event
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST
