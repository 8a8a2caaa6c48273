"""A premium tenant's attribute schema cannot make validation slow: its regexes run in linear time."""

import time

import pytest

from tests.resale.conftest import listing_body

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]

CATASTROPHIC = "^(a+)+$"


def _premium_with_schema(tenant_api, schema: dict):
    api = tenant_api(tier="premium")
    api.tenant.attribute_schema = {"type": "object", **schema}
    api.tenant.save()
    return api


@pytest.mark.parametrize(
    "schema",
    [
        {"properties": {"code": {"type": "string", "pattern": CATASTROPHIC}}},
        {"patternProperties": {CATASTROPHIC: {"type": "integer"}}},
        {"patternProperties": {CATASTROPHIC: {}}, "additionalProperties": False},
        {"propertyNames": {"pattern": CATASTROPHIC}},
    ],
    ids=["pattern", "patternProperties", "additionalProperties", "propertyNames"],
)
def test_a_catastrophic_pattern_answers_at_once(tenant_api, schema):
    """Python's re needs 2**5000 steps for these; 25 characters already take about a second.

    The schema also requires an attribute never sent, so every answer is a 400 and all that is
    timed is the validation (every keyword is evaluated: all errors are reported)."""
    api = _premium_with_schema(tenant_api, {**schema, "required": ["never-sent"]})
    api.client.get("/api/v1/listings/warm-up")
    attack = "a" * 5000 + "!"
    started = time.perf_counter()
    response = api.client.post(
        "/api/v1/listings", listing_body(attributes={"code": attack, attack: "x"}), format="json"
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 400, response.content
    assert elapsed < 3.0  # a shared, loaded machine; Python's re would not finish at all


def test_patterns_still_decide_what_is_valid(tenant_api):
    api = _premium_with_schema(
        tenant_api,
        {
            "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}-\\d+$"}},
            "patternProperties": {"^x-": {"type": "integer"}},
            "additionalProperties": False,
        },
    )
    ok = api.client.post(
        "/api/v1/listings", listing_body(attributes={"code": "ABC-12", "x-year": 1990}), format="json"
    )
    assert ok.status_code == 201, ok.content
    for attributes in ({"code": "abc-12"}, {"x-year": "old"}, {"size": "M"}):
        bad = api.client.post("/api/v1/listings", listing_body(attributes=attributes), format="json")
        assert bad.status_code == 400, attributes


def test_a_stored_schema_that_re2_cannot_run_is_refused_not_run_with_re(tenant_api):
    api = _premium_with_schema(tenant_api, {"properties": {"c": {"type": "string", "pattern": "^(a+)\\1$"}}})
    response = api.client.post("/api/v1/listings", listing_body(attributes={"c": "aa"}), format="json")
    assert response.status_code == 400
    assert "linear time" in str(response.json()["errors"]["attributes"])


@pytest.mark.parametrize("attributes", [{"": "x"}, {"size": {"": 1}}, {"sizes": [{"": 1}]}])
def test_an_empty_attribute_name_is_400_not_a_dynamodb_error(tenant_api, attributes):
    """Schemathesis found ``{"": ...}`` reaching DynamoDB ("Empty attribute name") as a 500."""
    response = tenant_api().client.post(
        "/api/v1/listings", listing_body(attributes=attributes), format="json"
    )
    assert response.status_code == 400 and "attributes" in response.json()["errors"]


def test_an_attribute_number_dynamodb_cannot_store_is_400_not_a_dynamodb_error(tenant_api):
    """Schemathesis found a float below DynamoDB's range ("Number underflow") reaching it as a 500."""
    api = tenant_api()
    for number in (2.2250738585e-313, -1e-131, 1e126, 10**40 + 1):
        response = api.client.post(
            "/api/v1/listings", listing_body(attributes={"specs": [1, {"weight": number}]}), format="json"
        )
        assert response.status_code == 400 and "attributes" in response.json()["errors"], number
    in_range = {"tiny": 1e-130, "big": 9.99e125, "zero": 0.0, "wide": 10**40}
    stored = api.client.post("/api/v1/listings", listing_body(attributes=in_range), format="json")
    assert stored.status_code == 201, stored.content
