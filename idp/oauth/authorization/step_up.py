"""Levels of assurance in the interaction: a second factor after the password, and stepping up.

- **After the password.** A person with a confirmed authenticator is not signed in by the
  password alone: the login page leaves them on the interaction (``password_accepted``) and the
  second-factor page signs them in with ``("pwd", "otp", "mfa")`` once a code fits.
- **Step up.** When the session is below what the request's ``acr_values`` or the client's
  ``minimum_acr`` asks for (``idp.oauth.assurance``), the person is asked for the missing factor
  instead of the request failing: a TOTP code when that is enough and enrolled; otherwise a page
  that says what is needed (where a passkey sign-in, which counts by its new sid, also helps).
  With ``prompt=none``, or when the person gives up, the client gets
  ``unmet_authentication_requirements`` (OpenID Connect Unmet Authentication Requirements 1.0).

Wrong codes are bounded per interaction (``MAX_FAILURES``); then the interaction ends and the
session is signed out, so every few guesses cost a password, which is throttled.
"""

from __future__ import annotations

from enum import StrEnum

from authlib.oauth2 import OAuth2Error

from idp.auth import rfc6238
from idp.auth.session import current_login
from idp.oauth.assurance import TWO_FACTOR, Level, required_level, satisfies
from idp.oauth.authorization import state
from idp.oauth.authorization.state import Interaction, Page
from idp.oauth.authorization.steps import Context, Outcome, Show
from idp.services import services
from idp.store.db import db
from idp.store.models import Client, Person

#: Wrong codes one interaction may see before it ends.
MAX_FAILURES = 5


class UnmetAuthenticationRequirementsError(OAuth2Error):  # type: ignore[misc]
    # OpenID Connect Unmet Authentication Requirements 1.0, section 2.
    error = "unmet_authentication_requirements"


def needed_level(interaction: Interaction, client: Client) -> Level | None:
    return required_level(interaction.params.get("acr_values"), client.minimum_acr)


def step_up(ctx: Context) -> Outcome | None:
    assert ctx.client is not None and ctx.login is not None
    needed = needed_level(ctx.interaction, ctx.client)
    if satisfies(ctx.login.amr, needed):
        return None
    if ctx.interaction.unmet or "none" in ctx.interaction.prompts:
        raise UnmetAuthenticationRequirementsError()
    person = ctx.login.person
    if needed is TWO_FACTOR and "pwd" in ctx.login.amr and rfc6238.is_enrolled(person.id):
        ctx.interaction.second_factor_for = person.id
        ctx.interaction.second_factor_sid = ctx.login.sid
        return Show(ctx.interaction.uid, Page.SECOND_FACTOR)
    return Show(ctx.interaction.uid, Page.STEP_UP)


def password_accepted(interaction: Interaction, person: Person) -> bool:
    """The login page's answer: True when the person must now give a second factor (the
    interaction remembers them, unsigned-in); False when the password signs them in."""
    if not rfc6238.is_enrolled(person.id):
        return False
    interaction.second_factor_for = person.id
    interaction.second_factor_sid = None
    interaction.page = Page.SECOND_FACTOR
    state.save(interaction)
    return True


class CodeAnswer(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    #: Too many wrong codes, or the session the step-up was for is gone: the interaction ended.
    ENDED = "ended"


def awaiting_second_factor(interaction: Interaction) -> Person | None:
    """Whom the second-factor page is for, while the session it was asked in is still this one."""
    if interaction.second_factor_for is None:
        return None
    if interaction.second_factor_sid is not None:
        login = current_login()
        if login is None or login.sid != interaction.second_factor_sid:
            return None
    person = db.session.get(Person, interaction.second_factor_for)
    return person if person is not None and person.disabled_at is None else None


def give_code(interaction: Interaction, person: Person, code: str) -> CodeAnswer:
    """The second-factor page's answer. On RIGHT the caller signs ``person`` in with
    ``AMR_PASSWORD_AND_TOTP``; on ENDED it signs the session out."""
    if rfc6238.check_second_factor(services().cipher, person.id, code):
        interaction.second_factor_for = interaction.second_factor_sid = None
        state.save(interaction)
        return CodeAnswer.RIGHT
    interaction.second_factor_failures += 1
    if interaction.second_factor_failures >= MAX_FAILURES:
        state.discard(interaction.uid)
        return CodeAnswer.ENDED
    state.save(interaction)
    return CodeAnswer.WRONG


def give_up(interaction: Interaction) -> None:
    """The step-up page's "back to the service": the client hears the level was not met."""
    interaction.unmet = True
    state.save(interaction)
