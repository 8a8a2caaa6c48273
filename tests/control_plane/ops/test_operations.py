import pytest
from django.test import Client


def test_healthz_answers_while_the_process_lives():
    assert Client().get("/healthz").status_code == 200


@pytest.mark.django_db
@pytest.mark.ddblocal
def test_readyz_reports_each_dependency(dynamodb_local):
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    assert set(response.json()["dependencies"]) == {"dynamodb", "postgresql", "redis"}


@pytest.mark.django_db
def test_readyz_is_503_naming_dynamodb_when_it_is_down(settings):
    settings.DYNAMODB_ENDPOINT = "http://127.0.0.1:9"
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["dependencies"]["dynamodb"]["ok"] is False


def test_unknown_api_paths_answer_problem_details():
    response = Client().get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
