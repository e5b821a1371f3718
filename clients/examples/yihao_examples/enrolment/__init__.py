"""入学报名: school enrolment that checks the district from registry data, with no uploads.

A parent signs in and agrees to release the household register and property data; the app
assesses every child of the household against the school's district rules and says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import Flask, g, render_template
from yihao.flask_rp import YihaoLogin, login_required

from yihao_examples.enrolment.eligibility import School, assess
from yihao_examples.web import base_app

SCOPE = "openid profile household property"
SCHOOL = School("番禺区市桥中学（初中部）", "junior", "广东省广州市番禺区市桥街道")


def create_app(env: Mapping[str, str] | None = None, today: date | None = None) -> Flask:
    app = base_app(__name__, SCOPE, env)
    YihaoLogin(app)

    @app.context_processor
    def _service() -> dict[str, str]:
        return {"service_name": "义务教育入学报名 School enrolment"}

    @app.get("/")
    def index() -> str:
        return render_template("enrol_index.html", school=SCHOOL)

    @app.get("/check")
    @login_required
    def check() -> str:
        claims = g.yihao.userinfo()
        verdicts = assess(
            claims.get("household"), claims.get("properties") or [], SCHOOL, today or date.today()
        )
        return render_template(
            "enrol_check.html", parent=claims.get("name", ""), verdicts=verdicts, school=SCHOOL
        )

    return app
