"""What the platform does when nobody configured it: nothing that production must not do."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
UNSET = (
    "DJANGO_ENV",
    "DJANGO_SECRET_KEY",
    "SANDBOX_PROVIDERS_ENABLED",
    "WEBHOOK_ALLOW_PRIVATE_TARGETS",
    "OPS_DETAILS_PUBLIC",
    "OPS_TOKEN",
    "TRUSTED_PROXY_HOPS",
)
SHOW = (
    "import json, django; from django.conf import settings; django.setup(); "
    "from django.urls import resolve, Resolver404\n"
    "try:\n    resolve('/sandbox/payments/charges'); sandbox_routed = True\n"
    "except Resolver404:\n    sandbox_routed = False\n"
    "print(json.dumps({'sandbox': settings.SANDBOX_PROVIDERS_ENABLED, 'sandbox_routed': sandbox_routed, "
    "'private_webhooks': settings.WEBHOOK_ALLOW_PRIVATE_TARGETS, 'ops_public': settings.OPS_DETAILS_PUBLIC, "
    "'proxy_hops': settings.TRUSTED_PROXY_HOPS}))"
)


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in UNSET}
    clean["DJANGO_SETTINGS_MODULE"] = "control_plane.settings"
    # Production also requires the history's signing keys; their own test is in tests/resale/history.
    clean["AUDIT_SIGNING_KEYS"] = '{"keys": []}'
    clean["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "platform")])
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("django_env", ["local", "production"])
def test_the_sandbox_and_private_webhook_targets_are_off_unless_turned_on(django_env):
    env = {"DJANGO_ENV": django_env, "DJANGO_SECRET_KEY": "k" * 60}
    shown = json.loads(_python(SHOW, **env).stdout.splitlines()[-1])
    assert shown["sandbox"] is False and shown["sandbox_routed"] is False
    assert shown["private_webhooks"] is False
    turned_on = json.loads(
        _python(
            SHOW, **env, SANDBOX_PROVIDERS_ENABLED="1", WEBHOOK_ALLOW_PRIVATE_TARGETS="1"
        ).stdout.splitlines()[-1]
    )
    assert turned_on["sandbox_routed"] is True and turned_on["private_webhooks"] is True


def test_production_keeps_ops_details_private_and_trusts_one_proxy_hop():
    shown = json.loads(
        _python(SHOW, DJANGO_ENV="production", DJANGO_SECRET_KEY="k" * 60).stdout.splitlines()[-1]
    )
    assert shown["ops_public"] is False and shown["proxy_hops"] == 1


@pytest.mark.parametrize(
    "secret_key", [None, "local-dev-only-" + "x" * 50], ids=["unset", "the-development-key"]
)
def test_production_refuses_to_start_with_the_development_secret_key(secret_key):
    env = {"DJANGO_ENV": "production", **({"DJANGO_SECRET_KEY": secret_key} if secret_key else {})}
    started = _python("import django; django.setup(); print('started')", **env)
    assert started.returncode != 0
    assert "started" not in started.stdout
    assert "DJANGO_SECRET_KEY" in started.stderr


@pytest.fixture
def ops_private(settings):
    settings.OPS_DETAILS_PUBLIC = False
    settings.OPS_TOKEN = "ops-secret-token"
    return settings


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Bearer ", "Token ops-secret-token"])
def test_metrics_are_refused_without_the_ops_token(ops_private, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client().get("/metrics", **headers)
    assert response.status_code == 401
    assert b"tenant" not in response.content


def test_metrics_are_served_with_the_ops_token(ops_private):
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ops-secret-token")
    assert response.status_code == 200
    assert b"# TYPE" in response.content


def test_metrics_without_an_ops_token_configured_are_refused_even_to_an_empty_bearer(settings):
    settings.OPS_DETAILS_PUBLIC = False
    settings.OPS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.mark.django_db
def test_a_public_readyz_says_only_ready_or_not_and_hides_dependency_errors(ops_private):
    ops_private.DYNAMODB_ENDPOINT = "http://127.0.0.1:9"
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    detailed = Client().get("/readyz", HTTP_AUTHORIZATION="Bearer ops-secret-token")
    assert detailed.status_code == 503
    assert detailed.json()["dependencies"]["dynamodb"]["ok"] is False
