"""What the person's answer on an interaction page records; the pipeline acts on it when resumed."""

from __future__ import annotations

from idp.auth.session import LoginSession
from idp.oauth.authorization import state
from idp.oauth.authorization.state import Decision, Interaction
from idp.oauth.authorization.steps import chosen_enterprise, requested_scopes
from idp.store.consents import grant_consent
from idp.store.models import Client


def choose_enterprise(interaction: Interaction, enterprise_id: str, allow: bool) -> None:
    """The enterprise page: an enterprise to act for, or no to the whole request."""
    if not allow:
        interaction.decision = Decision.DENY
    elif enterprise_id.isascii() and enterprise_id.isdigit():
        interaction.enterprise_id = int(enterprise_id)
    state.save(interaction)


def decide(interaction: Interaction, client: Client, login: LoginSession, allow: bool) -> None:
    """The consent page: an allow is remembered as standing consent for these scopes."""
    if allow:
        enterprise = chosen_enterprise(interaction, login.person, client)
        grant_consent(
            login.person.id,
            client.client_id,
            enterprise.id if enterprise else None,
            requested_scopes(interaction, client),
        )
    interaction.decision = Decision.ALLOW if allow else Decision.DENY
    state.save(interaction)
