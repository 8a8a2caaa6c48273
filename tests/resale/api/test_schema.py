import pytest

pytestmark = pytest.mark.django_db


def test_the_openapi_document_describes_every_tenant_path():
    from rest_framework.test import APIClient

    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/listings": {"get", "post"},
        "/api/v1/listings/{listing_id}": {"get", "patch", "delete"},
        "/api/v1/listings/{listing_id}/images": {"post"},
        "/api/v1/listings/{listing_id}/images/{image_id}": {"post"},
        "/api/v1/orders": {"post"},
        "/api/v1/orders/{order_id}": {"get"},
        "/api/v1/orders/{order_id}/cancel": {"post"},
        "/api/v1/links": {"post"},
        "/api/v1/privacy/erasures": {"post"},
        "/r/{tenant_slug}/{code}": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
