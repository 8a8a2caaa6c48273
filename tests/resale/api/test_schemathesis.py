"""Schemathesis over the published OpenAPI document: every operation of the tenant and the
control-plane APIs, with schema-valid and schema-breaking inputs.

The promises: no input gets a 5xx, every status code answered is documented, as problem
details, for its operation, and no schema-valid request is refused as invalid input (400) but by
a rule OpenAPI 3.0 cannot state (``UNSTATABLE_RULES``: opaque signed cursors, and rules across
parameters or fields; their descriptions say them). Operations that send traffic off the machine
(a webhook's test delivery and a delivery's redrive) are left out. Bounded: ``MAX_EXAMPLES``
generated cases per operation, the rate limiter off so each case reaches its view.
"""

import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.resale.api.in_process import keeping_the_test_connection

pytestmark = [pytest.mark.schemathesis, pytest.mark.ddblocal, pytest.mark.django_db(transaction=False)]

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance]
OFF_MACHINE = r"^/api/v1/webhooks/\{webhook_id\}/(test|deliveries/\{delivery_id\}/redrive)$"
UNSTATABLE_RULES = re.compile(
    "|".join(
        [
            r"not a cursor this API gave out",  # a cursor's signature: only the server can check it
            r"This cursor does not belong to this query\.",
            r"Required with entity_id\.",  # entity_id needs entity_type
            r"Filter by seller_id, status or category",  # at least one of three parameters
            r"Greater than max_price\.",  # min_price <= max_price
            r"[A-Z]{3} allows \d decimal places\.",  # a price's decimals depend on its currency
            # Free-form attributes, as DynamoDB stores them: no empty name (OpenAPI 3.0 has no
            # propertyNames), numbers within its range (nothing constrains a nested value's type).
            r"Attribute names cannot be empty",
            r"Numbers must be 0 or of magnitude",
            r"No such tenants: ",  # a rollout's targets exist: only the server knows its tenants
        ]
    )
)


@pytest.fixture
def openapi(credentials):
    """The document, loaded through the WSGI application that also serves the generated requests.

    In-process, in the test's transaction: as Django's test client does, the end of a request
    must not close the test's database connection (set up after ``credentials``, whose test
    client connects the signal again when it is done)."""
    from control_plane.wsgi import application

    with keeping_the_test_connection():
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def credentials(tenant_api, django_user_model, settings):
    """Headers per plane: a premium tenant's key with every scope, and a staff token."""
    settings.RATELIMIT_ENABLED = False
    api = tenant_api(tier="premium", scopes=("read", "write", "audit"))
    django_user_model.objects.create_superuser("fuzz-staff", "staff@example.com", "fuzz-password")
    token = APIClient().post(
        "/control/v1/token", {"username": "fuzz-staff", "password": "fuzz-password"}, format="json"
    )
    return {
        "/api/": {"Authorization": f"Api-Key {api.key}"},
        "/control/": {"Authorization": f"Token {token.json()['token']}"},
    }


def test_no_input_reaches_a_5xx_or_an_undocumented_status(openapi, credentials):
    """Each operation gets ``MAX_EXAMPLES`` cases; every failure is collected, then all are shown."""
    operations, cases, failures = 0, [], []
    for result in openapi.get_all_operations():
        operation = result.ok()
        if re.match(OFF_MACHINE, operation.path):
            continue
        operations += 1
        headers = next((h for prefix, h in credentials.items() if operation.path.startswith(prefix)), {})
        _fuzz(operation, headers, cases, failures)
    summary = f"{operations} operations, {len(cases)} cases, {len(failures)} failures"
    print(summary)
    assert not failures, summary + "\n\n" + "\n\n".join(failures)


def _fuzz(operation, headers: dict, cases: list, failures: list) -> None:
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy())
    def run(case):
        cases.append(case.operation.label)
        try:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
        except (AssertionError, FailureGroup) as failure:
            failures.append(f"{case.method} {case.path}: {str(failure).strip()[:600]}")
            return
        if case.meta.generation.mode.is_positive and response.status_code == 400:
            problem = response.json()
            errors = json.dumps(problem.get("errors"))
            if not UNSTATABLE_RULES.search(errors + problem.get("detail", "")):
                failures.append(f"{case.method} {case.path}: schema-valid request refused: {errors[:600]}")

    run()
