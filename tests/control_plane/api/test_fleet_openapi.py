"""The OpenAPI document names every answer of the fleet's operations (tier change, drift, rollouts)."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_openapi_document_names_every_answer_of_the_fleet_operations():
    paths = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    expected = {
        ("/control/v1/tenants/{slug}", "patch"): {"202", "400", "401", "403", "404", "409"},
        ("/control/v1/tenants/{slug}/drift", "get"): {"200", "401", "403", "404", "409"},
        ("/control/v1/rollouts", "post"): {"202", "400", "401", "403"},
        ("/control/v1/rollouts", "get"): {"200", "401", "403"},
        ("/control/v1/rollouts/{rollout_id}", "get"): {"200", "401", "403", "404"},
        ("/control/v1/rollouts/{rollout_id}/resume", "post"): {"200", "401", "403", "404", "409"},
        ("/control/v1/rollouts/{rollout_id}/cancel", "post"): {"200", "401", "403", "404", "409"},
    }
    for (path, method), codes in expected.items():
        responses = paths[path][method]["responses"]
        assert codes <= set(responses), (path, method, sorted(responses))
        for code in codes - {"200", "202"}:
            assert responses[code]["content"]["application/problem+json"]["schema"]["$ref"].endswith(
                "/Problem"
            )
