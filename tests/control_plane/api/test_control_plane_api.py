import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    User.objects.create_user("staff", password="pw-staff-1", is_staff=True)
    client = APIClient()
    token = client.post("/control/v1/token", {"username": "staff", "password": "pw-staff-1"}, format="json")
    assert token.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    return client


def test_non_staff_users_get_403():
    User.objects.create_user("shopper", password="pw-shopper-1")
    client = APIClient()
    response = client.post(
        "/control/v1/token", {"username": "shopper", "password": "pw-shopper-1"}, format="json"
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_without_a_token_the_tenants_are_not_listed():
    assert APIClient().get("/control/v1/tenants").status_code in (401, 403)


@pytest.mark.parametrize("slug", ["ab", "UPPER", "with space", "x" * 41, "under_score"])
def test_a_bad_slug_is_400_naming_the_field(staff_client, slug):
    response = staff_client.post(
        "/control/v1/tenants",
        {"slug": slug, "name": "N", "tier": "standard", "admin_email": "a@b.example"},
        format="json",
    )
    assert response.status_code == 400
    assert "slug" in response.json()["errors"]


def test_a_taken_slug_is_409(staff_client, django_capture_on_commit_callbacks):
    body = {"slug": "taken-one", "name": "N", "tier": "standard", "admin_email": "a@b.example"}
    with django_capture_on_commit_callbacks(execute=False):
        assert staff_client.post("/control/v1/tenants", body, format="json").status_code == 202
        assert staff_client.post("/control/v1/tenants", body, format="json").status_code == 409
