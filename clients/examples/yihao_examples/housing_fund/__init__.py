"""住房公积金提取: the housing-fund withdrawal application, pre-filled from Yihao.

The citizen signs in, agrees to release name and identity number, and finds the application
already filled with both; they type only what the provider cannot know (amount, reason, account).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from yihao.flask_rp import YihaoLogin, login_required

from yihao_examples.web import base_app

SCOPE = "openid profile id_number"
REASONS = {
    "purchase": "购买自住住房 Buying a home",
    "rent": "租赁自住住房 Renting a home",
    "retirement": "离休、退休 Retirement",
}


@dataclass(frozen=True)
class Application:
    number: str
    name: str
    masked_id: str
    reason: str
    amount_yuan: int


def _masked(number: str) -> str:
    return number[:6] + "*" * 8 + number[-4:] if len(number) == 18 else "*" * len(number)


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    app = base_app(__name__, SCOPE, env)
    YihaoLogin(app)
    applications: dict[str, Application] = {}  # a demo: a real fund office has a database

    @app.context_processor
    def _service() -> dict[str, str]:
        return {"service_name": "住房公积金管理中心 Housing Provident Fund"}

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    @app.route("/apply", methods=["GET", "POST"])
    @login_required
    def apply() -> str | Response:
        person = g.yihao.userinfo()  # fresh from the provider, released with consent
        if request.method == "GET":
            return render_template(
                "apply.html",
                name=person.get("name", ""),
                masked_id=_masked(str(person.get("id_number", ""))),
                reasons=REASONS,
                error=None,
            )
        reason, amount = request.form.get("reason", ""), request.form.get("amount", "")
        if reason not in REASONS or not amount.isdigit() or not 0 < int(amount) <= 1_000_000:
            return render_template(
                "apply.html",
                name=person.get("name", ""),
                masked_id=_masked(str(person.get("id_number", ""))),
                reasons=REASONS,
                error="请选择提取原因并填写 1 至 1,000,000 元的金额。",
            )
        number = "GJJ" + secrets.token_hex(4).upper()
        applications[number] = Application(
            number,
            str(person.get("name", "")),
            _masked(str(person.get("id_number", ""))),
            REASONS[reason],
            int(amount),
        )
        return redirect(url_for("done", number=number))

    @app.get("/apply/<number>")
    @login_required
    def done(number: str) -> str:
        found = applications.get(number)
        if found is None:
            abort(404)
        return render_template("done.html", application=found)

    return app
