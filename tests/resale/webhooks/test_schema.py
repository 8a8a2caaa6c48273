"""The OpenAPI document describes every status each webhook operation answers, as problem details."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

COMMON = {"401", "403", "429", "503"}
OPERATIONS = {
    ("/api/v1/webhooks", "post"): {"201", "400", "409", "413", "415"},
    ("/api/v1/webhooks", "get"): {"200"},
    ("/api/v1/webhooks/{webhook_id}", "get"): {"200", "404"},
    ("/api/v1/webhooks/{webhook_id}", "delete"): {"204", "404"},
    ("/api/v1/webhooks/{webhook_id}/deliveries", "get"): {"200", "400", "404"},
    ("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redrive", "post"): {"200", "404"},
    ("/api/v1/webhooks/{webhook_id}/test", "post"): {"202", "404"},
}


@pytest.mark.parametrize(("path", "method"), sorted(OPERATIONS))
def test_each_webhook_operation_documents_each_status_it_answers_with_retry_after_on_429(path, method):
    document = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    responses = document["paths"][path][method]["responses"]

    assert set(responses) == OPERATIONS[path, method] | COMMON
    for code, response in responses.items():
        if code.startswith(("4", "5")):
            assert set(response["content"]) == {"application/problem+json"}, code
    assert {"429", "503"} <= {
        code for code, response in responses.items() if "Retry-After" in response.get("headers", {})
    }
