"""智慧产融: a bank-facing financing platform that scores an enterprise from registry data.

The enterprise signs in through its legal representative or an agent (经办人) holding a mandate,
and agrees to release its business registration, its properties with their mortgage status and
its social insurance by month; the platform shows them and an explained score
(``financing.score``). It is registered under the provider's ``fapi2`` profile: pushed
authorization requests, ``private_key_jwt`` and DPoP-bound tokens, all done by the SDK from the
``YIHAO_*`` settings. The data is asked for as verified claims (``financing.evidence``: the
registry records as evidence) and read fresh from UserInfo on each visit.

A licence a customer shows as a ``business_licence.financing`` QR is verified offline, with the
counter's trust handling (pinned root, cached trust and status lists).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from flask import Flask, g, render_template, request
from werkzeug.wrappers import Response
from yihao.flask_rp import YihaoLogin, login_required

from yihao_examples.counter import describe
from yihao_examples.counter.trust import CounterTrust
from yihao_examples.financing.evidence import CLAIMS_REQUEST, verified
from yihao_examples.financing.score import credit_score
from yihao_examples.web import base_app

SCOPE = "openid enterprise business property social_insurance"
SERVICE_NAME = "智慧产融 Financing platform"
#: The only certificate profile this platform accepts: the licence's financing view.
LICENCE_PROFILE = "business_licence.financing"
#: Mandates run through their last day in Beijing time (docs/claims.md ``mandate``).
BEIJING = timezone(timedelta(hours=8))
#: A QR's text is a few hundred characters; anything much longer is not one.
MAX_QR_TEXT = 8192


def create_app(env: Mapping[str, str] | None = None, *, today: date | None = None) -> Flask:
    env = os.environ if env is None else env
    app = base_app(__name__, SCOPE, env)
    app.config["YIHAO_CLAIMS"] = CLAIMS_REQUEST
    YihaoLogin(app)
    trust = CounterTrust(
        Path(env["YIHAO_ROOT_PEM"]),
        env["YIHAO_ISSUER"].rstrip("/") + "/credentials/trust",
        Path(env.get("EXAMPLE_FINANCING_CACHE", "financing-trust.json")),
    )
    trust.refresh()
    trust.refresh_every(float(env.get("EXAMPLE_REFRESH_SECONDS", "600")))

    @app.context_processor
    def _service() -> dict[str, str]:
        return {"service_name": SERVICE_NAME}

    @app.get("/")
    def index() -> str:
        return render_template("fin_index.html")

    @app.get("/profile")
    @login_required
    def profile() -> str | Response:
        info: dict[str, Any] = g.yihao.userinfo()  # fresh, with the DPoP-bound token
        if info.get("entity_type") != "enterprise":
            return Response(
                render_template("fin_not_enterprise.html"), status=403, mimetype="text/html"
            )
        values, sources = verified(info)
        data = {**info, **values}
        registration = data.get("business_registration")
        properties = list(data.get("properties") or [])
        months = sorted(data.get("social_insurance") or [], key=lambda m: str(m["period"]))
        score = credit_score(registration, properties, months, today or date.today())
        return render_template(
            "fin_profile.html",
            info=info,
            acting=_acting(info),
            registration=registration,
            properties=properties,
            months=months,
            score=score,
            sources=sources,
        )

    @app.route("/licence", methods=["GET", "POST"])
    def licence() -> str:
        if request.method == "GET":
            return render_template("fin_licence.html", result=None, text="")
        text = request.form.get("qr_text", "").strip()[:MAX_QR_TEXT]
        result = trust.verifier.verify(text)
        shown = describe(result)
        if result.valid and result.profile_name != LICENCE_PROFILE:
            shown = {**shown, "valid": False, "fields": [], "failures": [_WRONG_PROFILE]}
        return render_template("fin_licence.html", result=shown, text="")

    return app


_WRONG_PROFILE = "不是企业融资用营业执照 Not a business licence for financing"


def _acting(info: Mapping[str, Any]) -> str:
    """Who signed in for the enterprise: an agent's token carries their mandate (docs/claims.md)."""
    mandate = info.get("mandate")
    if isinstance(mandate, dict) and "valid_until" in mandate:
        last = datetime.fromtimestamp(int(mandate["valid_until"]) - 1, BEIJING)
        until = last.date().isoformat()
        return f"经办人（授权有效至 {until}） Agent, mandate valid until {until}"
    return "法定代表人 Legal representative"
