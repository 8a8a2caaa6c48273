"""Staff tokens: expiring, refused alike for every wrong way in, and locked out after repeated failures."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_signin_counters", "fast_password_hashing"),
]

STAFF_PASSWORD = "pw-staff-1"
LIMIT = 5


@pytest.fixture
def staff():
    return User.objects.create_user("staff", password=STAFF_PASSWORD, is_staff=True)


@pytest.fixture
def shopper():
    return User.objects.create_user("shopper", password="pw-shopper-1")


def _token(username: str, password: str, address: str = "10.1.0.1"):
    return APIClient().post(
        "/control/v1/token", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_a_staff_token_says_when_it_expires_and_opens_the_api(staff, settings):
    before = timezone.now()
    response = _token("staff", STAFF_PASSWORD)
    assert response.status_code == 200
    assert set(response.json()) == {"token", "expires_at"}
    expires_at = parse_datetime(response.json()["expires_at"])
    ttl = timedelta(seconds=settings.STAFF_TOKEN_TTL_SECONDS)
    assert before + ttl <= expires_at <= timezone.now() + ttl
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/control/v1/tenants").status_code == 200


def test_an_expired_token_is_401(staff):
    token = _token("staff", STAFF_PASSWORD).json()["token"]
    AuthToken.objects.filter(user=staff).update(expiry=timezone.now() - timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/control/v1/tenants")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("header", ["Token \xe9\xff", "Token x" * 3, "Token", "Token 0123456789abcdef"])
def test_a_malformed_or_unknown_token_is_401_never_500(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/control/v1/tenants").status_code == 401


def test_a_wrong_password_an_unknown_user_and_a_non_staff_password_get_one_answer(
    staff, shopper, password_hashes
):
    answers = []
    for username, password in [("staff", "wrong"), ("nobody", "wrong"), ("shopper", "pw-shopper-1")]:
        password_hashes.clear()
        response = _token(username, password)
        answers.append((response.status_code, response["Content-Type"], response.content))
        assert len(password_hashes) == 1, f"{username}: {len(password_hashes)} password hashes"
    assert answers[0][0] == 403
    assert answers[0] == answers[1] == answers[2]


def test_a_non_staff_users_right_password_counts_as_a_failure(shopper):
    """Else the lockout would tell it apart: the fifth wrong guess is 429, a right one would be 403."""
    for _ in range(LIMIT - 1):
        assert _token("shopper", "wrong").status_code == 403
    assert _token("shopper", "pw-shopper-1").status_code == 429


def test_repeated_failures_are_429_problem_details_with_retry_after_and_cost_no_hash(
    staff, settings, password_hashes
):
    for _ in range(LIMIT - 1):
        assert _token("staff", "wrong").status_code == 403
    assert _token("staff", "wrong").status_code == 429
    password_hashes.clear()
    refused = _token("staff", STAFF_PASSWORD, address="10.1.9.9")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused["Retry-After"] == str(settings.LOGIN_LOCKOUT_SECONDS)
    assert refused.json()["status"] == 429
    assert password_hashes == []


@pytest.mark.usefixtures("signin_counters_unreachable")
def test_without_the_lockout_counters_no_password_is_checked_and_the_answer_is_503(staff, password_hashes):
    response = _token("staff", STAFF_PASSWORD)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json" and "Retry-After" in response
    assert password_hashes == []


def test_a_full_width_username_is_the_same_account_and_the_same_counter(staff):
    assert _token("ｓｔａｆｆ", STAFF_PASSWORD).status_code == 200
    for n in range(LIMIT):
        _token("ＳＴＡＦＦ", "wrong", address=f"10.2.0.{n}")
    assert _token("staff", STAFF_PASSWORD, address="10.2.9.9").status_code == 429


def test_the_console_and_the_token_share_one_counter(staff):
    for n in range(LIMIT):
        APIClient().post(
            "/console/login/", {"username": "staff", "password": "wrong"}, REMOTE_ADDR=f"10.3.0.{n}"
        )
    assert _token("staff", STAFF_PASSWORD, address="10.3.9.9").status_code == 429


def test_the_openapi_document_names_every_answer_of_the_token_and_staff_operations():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    token = schema["paths"]["/control/v1/token"]["post"]["responses"]
    assert {"200", "400", "403", "429", "503"} <= set(token)
    assert "Retry-After" in token["429"]["headers"]
    assert token["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/StaffToken")
    for code in ("403", "429"):
        assert token[code]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    tenants = schema["paths"]["/control/v1/tenants"]
    for operation in tenants.values():
        assert {"401", "403"} <= set(operation["responses"])
    assert "Problem" in schema["components"]["schemas"]
