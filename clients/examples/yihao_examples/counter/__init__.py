"""柜台核验: the clerk's page that verifies a citizen's QR e-certificate offline.

The browser camera (or an uploaded photo) supplies the image; this service reads the QR with the
SDK and verifies it against the cached trust and status lists, with no call to the provider, so
it keeps working with the network cable pulled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from yihao.verifier import Result
from yihao.wire.fields import BY_NAME

from yihao_examples.counter.trust import CounterTrust
from yihao_examples.web import base_app

MAX_IMAGE_BYTES = 8 * 1024 * 1024
FAILURE_TEXT = {
    "no_qr": "未识别到二维码 No QR code found",
    "expired": "证照已过期 Expired",
    "not_yet_valid": "尚未生效 Not yet valid",
    "revoked": "证照已注销 Revoked",
    "status_unknown": "状态未知（注销列表过期，请联网更新） Status unknown: list stale",
    "stale_time_step": "二维码已过时，请刷新 Code too old: ask to refresh",
    "replay": "二维码已被使用 Already scanned",
    "bad_holder_signature": "非本人手机出示 Not signed by the holder's phone",
    "bad_issuer_signature": "签名无效 Forged or altered",
    "unknown_key_id": "非可信签发机构 Unknown issuer",
    "bad_certificate_chain": "签发证书不可信 Issuer certificate not trusted",
}


def describe(result: Result) -> dict[str, Any]:
    """The verdict as the clerk's page shows it: field labels, masked-free values as issued."""
    return {
        "valid": result.valid,
        "failures": [FAILURE_TEXT.get(f.value, f.value) for f in result.failures],
        "profile": result.profile_name,
        "identifier": result.identifier,
        "fields": [
            {"label": BY_NAME[name].label_zh if name in BY_NAME else name, "value": _show(v)}
            for name, v in result.fields.items()
        ],
    }


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(map(str, value))
    return "长期" if value is None else str(value)


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    env = os.environ if env is None else env
    app = base_app(__name__, "openid", env)
    app.config["MAX_CONTENT_LENGTH"] = MAX_IMAGE_BYTES
    trust = CounterTrust(
        Path(env["YIHAO_ROOT_PEM"]),
        env["YIHAO_ISSUER"].rstrip("/") + "/credentials/trust",
        Path(env.get("EXAMPLE_COUNTER_CACHE", "counter-trust.json")),
    )
    trust.refresh()
    trust.refresh_every(float(env.get("EXAMPLE_REFRESH_SECONDS", "600")))
    app.extensions["counter_trust"] = trust

    @app.context_processor
    def _service() -> dict[str, Any]:
        at = trust.refreshed_at
        shown = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "从未"
        return {"service_name": "政务服务窗口 Service counter", "refreshed": shown}

    @app.get("/")
    def index() -> str:
        return render_template("counter.html", result=None)

    @app.post("/verify")
    def verify_frame() -> Response:
        """A camera frame from the page's script; JSON back."""
        return jsonify(describe(trust.verifier.verify_image(request.get_data())))

    @app.post("/verify/upload")
    def verify_upload() -> str:
        upload = request.files.get("photo")
        data = upload.read() if upload else b""
        return render_template("counter.html", result=describe(trust.verifier.verify_image(data)))

    return app
