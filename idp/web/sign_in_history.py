"""The sign-in history section of /account: the person's last sign-ins and failed attempts, so a
citizen sees someone else trying their password (and from which network)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from idp.auth.history import recent
from idp.auth.session import LoginSession

#: Entries shown; older ones stay (for "signed in from here before") until IDP_SIGN_IN_HISTORY_DAYS.
SHOWN = 10

_METHODS = {
    "password": _l("Password"),
    "passkey": _l("Passkey"),
    "totp": _l("Authenticator app"),
}
_RESULTS = {"signed_in": _l("Signed in"), "sign_in_failed": _l("Failed")}


@dataclass(frozen=True)
class SignInRow:
    at: datetime
    method: str
    result: str
    succeeded: bool
    address: str


def sign_in_rows(login: LoginSession) -> list[SignInRow]:
    """What ``_sign_in_history.html`` lists, newest first."""
    return [
        SignInRow(
            e.at,
            str(_METHODS.get(e.method, e.method)),
            str(_RESULTS.get(e.result, e.result)),
            e.result == "signed_in",
            e.address_masked,
        )
        for e in recent(login.person.id, SHOWN)
    ]
