"""What an operator is told after a form: the task's refusal, or what was done, on the next page.

Every form posts, the task runs, and the browser is sent back with a flashed line (the
post/redirect/get pattern), so a reload never repeats an admin action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import flash, redirect
from werkzeug.wrappers import Response

from idp.admin.errors import AdminError

P = ParamSpec("P")
T = TypeVar("T")


def attempt(task: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
    """The task's result, or None with its refusal flashed as an error."""
    try:
        return task(*args, **kwargs)
    except AdminError as refusal:
        flash(str(refusal), "error")
        return None


def act(message: str, to: str, task: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Response:
    """Run one task and go back to ``to``, saying ``message`` or the task's refusal."""
    return done(None if attempt(task, *args, **kwargs) is None else message, to)


def done(message: str | None, to: str) -> Response:
    """Back to ``to``, saying ``message`` (None: the task's refusal is already flashed)."""
    if message:
        flash(message, "success")
    return redirect(to)


def refuse(message: str, to: str) -> Response:
    """Back to ``to``, saying why the form was not taken (a check before any task)."""
    flash(message, "error")
    return redirect(to)
