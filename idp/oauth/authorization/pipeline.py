"""The interaction's steps in order, and running them for a new or a resumed request."""

from __future__ import annotations

from collections.abc import Callable

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from flask import Response

from idp.oauth.authorization import state, step_up, steps
from idp.oauth.authorization.state import Interaction
from idp.oauth.authorization.steps import Context, Issue, Outcome, Refusal, Refused, Show
from idp.oauth.rfc9207 import with_issuer
from idp.services import services

Step = Callable[[Context], Outcome | None]

STEPS: tuple[Step, ...] = (
    steps.find_client,
    steps.unpack_request_object,
    steps.verify_redirect_uri,
    steps.validate_request,
    steps.check_max_age,
    steps.authenticate,
    step_up.step_up,
    steps.honour_denial,
    steps.choose_enterprise,
    steps.consent,
    steps.issue,
)


#: Errors told on a page of their own, when there is no verified redirect URI to send them to.
_PAGE_REFUSALS = {"invalid_request_object": Refusal.INVALID_REQUEST_OBJECT}


def start(params: dict[str, str]) -> Response | Refused | Show:
    """A request as it arrives at ``/authorize``."""
    return _run(state.begin(params), None)


def resume(uid: str) -> Response | Refused | Show:
    """A pending request after the person answered a page: its parameters come from the session."""
    interaction = state.load(uid)
    if interaction is None:
        return Refused(Refusal.EXPIRED)
    return _run(interaction, steps.prepared_request(interaction.params))


def _run(interaction: Interaction, prepared: OAuth2Request | None) -> Response | Refused | Show:
    ctx = Context(interaction, prepared)
    try:
        outcome = _first_outcome(ctx)
    except OAuth2Error as error:
        state.discard(interaction.uid)
        return _error(ctx, error)
    if isinstance(outcome, Show):
        interaction.page = outcome.page
        state.save(interaction)
        return outcome
    state.discard(interaction.uid)
    if isinstance(outcome, Refused):
        return outcome
    return _respond(ctx, outcome)


def _first_outcome(ctx: Context) -> Outcome:
    for step in STEPS:
        outcome = step(ctx)
        if outcome is not None:
            return outcome
    raise AssertionError("the last step always answers")  # pragma: no cover


def _respond(ctx: Context, outcome: Issue) -> Response:
    response: Response = steps.server().create_authorization_response(
        request=ctx.prepared, grant_user=outcome.principal, grant=ctx.grant
    )
    return response


def _error(ctx: Context, error: OAuth2Error) -> Response | Refused:
    # RFC 6749 4.1.2.1: once the client and its redirect URI are verified, errors go back to it.
    error.state = ctx.params.get("state")
    error.redirect_uri = error.redirect_uri or ctx.redirect_uri
    if not error.redirect_uri:
        reason = _PAGE_REFUSALS.get(error.error, Refusal.INVALID_REQUEST)
        return Refused(reason, error.get_error_description() or error.error)
    status, body, headers = error()
    response: Response = steps.server().handle_response(status, body, headers)
    return with_issuer(response, services().settings.issuer)
