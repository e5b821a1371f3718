"""The admin API fuzzed from its own OpenAPI description (schemathesis): whatever a caller
sends, the answer is never a 5xx and always matches the description (status, media type, body);
schemathesis's default checks, but for accepting every schema-valid body.

Run with every role (an admin may not read the audit), so every input reaches the task's rules.
"""

from __future__ import annotations

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from idp.admin.roles import Role
from idp.web.admin_api.operations import OPERATIONS, PREFIX
from tests.integration.admin.conftest import AdminToken


def test_no_input_gets_a_server_error(app: Flask, admin_headers: AdminToken) -> None:
    schema = schemathesis.openapi.from_wsgi(PREFIX + "/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(OPERATIONS)
    headers = admin_headers(*Role)

    @given(data=st.data())
    @settings(
        max_examples=30 * len(operations),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy())
        # A schema-valid number may still fail its check character: a 422 there is right.
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    fuzz()
