"""The pending interaction: what an authorization request has gathered so far, per browser.

It lives in the server-side session (``idp.auth.session.interactions``) under a random id, so the
request's parameters (which may carry a login hint) never reappear in a URL, and it is dropped
after ``IDP_INTERACTION_TTL``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass
from enum import StrEnum

from flask import session

from idp.auth.session import interactions

#: Pending interactions kept per browser; older ones are dropped (bounds what one browser stores).
MAX_PENDING = 4


class Page(StrEnum):
    """An interaction page, in the order a request may need them."""

    LOGIN = "login"
    #: A TOTP code or a recovery code, after the password or to step up (``step_up.py``).
    SECOND_FACTOR = "second_factor"
    #: The level the request needs cannot be reached with this account's factors (``step_up.py``).
    STEP_UP = "step_up"
    ENTERPRISE = "enterprise"
    CONSENT = "consent"


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass
class Interaction:
    uid: str
    params: dict[str, str]
    started: int
    #: The page the person was last sent to.
    page: Page | None = None
    #: Set when a sign-in was asked for: the session that was not good enough (None: none at all).
    #: A session with another sid is a sign-in made since, whichever page or route made it.
    login_asked: bool = False
    sid_before: str | None = None
    enterprise_id: int | None = None
    decision: Decision | None = None
    #: A person asked for a second factor (``step_up.py``): after their right password (no
    #: session yet, ``second_factor_sid`` None) or to step up the session ``second_factor_sid``.
    second_factor_for: int | None = None
    second_factor_sid: str | None = None
    second_factor_failures: int = 0
    #: The person chose to go back to the client without the level it asked for.
    unmet: bool = False
    #: ``params`` came from a request the client pushed to ``/par`` (RFC 9126), not the query.
    pushed: bool = False

    @property
    def prompts(self) -> frozenset[str]:
        return frozenset(self.params.get("prompt", "").split())

    def signed_in_since_asked(self, sid: str | None) -> bool:
        return self.login_asked and sid is not None and sid != self.sid_before


def begin(params: dict[str, str]) -> Interaction:
    """A new interaction, kept only if a step saves it (a page has to be shown)."""
    return Interaction(secrets.token_urlsafe(12), params, int(time.time()))


def load(uid: str) -> Interaction | None:
    stored = interactions().get(uid)
    if stored is None:
        return None
    found = Interaction(**stored)
    found.page = Page(found.page) if found.page else None
    found.decision = Decision(found.decision) if found.decision else None
    return found


def save(interaction: Interaction) -> None:
    """Keep ``interaction``; a new one pushes out the oldest beyond ``MAX_PENDING``."""
    pending = interactions()
    if interaction.uid not in pending:
        oldest = sorted(pending, key=lambda uid: pending[uid]["started"])
        for stale in oldest[: max(0, len(pending) - MAX_PENDING + 1)]:
            del pending[stale]
    pending[interaction.uid] = asdict(interaction)
    session.modified = True


def discard(uid: str) -> None:
    if interactions().pop(uid, None) is not None:
        session.modified = True
