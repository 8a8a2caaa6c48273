"""The sandbox payment and shipping providers: the project's own stand-ins for the real ones.

Served by the platform under ``/sandbox/`` (only while ``SANDBOX_PROVIDERS_ENABLED``), state in
Redis so every process sees the same charges. A test tells them how to behave:
- per payment token: a token containing ``decline``, ``timeout``, ``slow`` or ``error`` does that;
- per service: ``POST /sandbox/control {"service": "payments"|"shipping", "mode": ..., "times": N,
  "delay_seconds": s}`` sets the mode for the next N calls (or until reset).
Modes: ``approve``, ``decline``, ``timeout`` (hangs past the client's timeout, then 504, charges
nothing), ``slow`` (waits ``delay_seconds``, then approves), ``error`` (500).
Charges and shipments are idempotent by their key: the same key returns the first result.
"""

import json
import time
import uuid
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

MODES = ("approve", "decline", "timeout", "slow", "error")
SERVICES = ("payments", "shipping")
PREFIX = "resale:sandbox"


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.SANDBOX_REDIS_URL, decode_responses=True)


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _service_mode(service: str) -> tuple[str, float]:
    r = _redis()
    mode = r.get(f"{PREFIX}:mode:{service}") or "approve"
    delay = float(r.get(f"{PREFIX}:delay:{service}") or 0.5)
    left_key = f"{PREFIX}:left:{service}"
    if mode != "approve" and r.exists(left_key) and r.decr(left_key) <= 0:
        r.delete(f"{PREFIX}:mode:{service}", left_key)
    return mode, delay


def _behave(mode: str, delay: float) -> JsonResponse | None:
    """Carries out a non-approving mode; None when the call should go on and approve."""
    if mode == "timeout":
        time.sleep(settings.PROVIDER_TIMEOUT_SECONDS + 1)
        return JsonResponse({"status": "timeout"}, status=504)
    if mode == "error":
        return JsonResponse({"status": "error"}, status=500)
    if mode == "decline":
        return JsonResponse({"status": "declined", "reason": "card declined"}, status=402)
    if mode == "slow":
        time.sleep(delay)
    return None


@csrf_exempt
@require_POST
def sandbox_control(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    service, mode = data.get("service"), data.get("mode", "approve")
    if service not in SERVICES or mode not in MODES:
        return JsonResponse({"errors": {"service": list(SERVICES), "mode": list(MODES)}}, status=400)
    r = _redis()
    r.set(f"{PREFIX}:mode:{service}", mode)
    r.set(f"{PREFIX}:delay:{service}", float(data.get("delay_seconds", 0.5)))
    if data.get("times"):
        r.set(f"{PREFIX}:left:{service}", int(data["times"]))
    else:
        r.delete(f"{PREFIX}:left:{service}")
    return JsonResponse({"service": service, "mode": mode})


def _idempotent_create(kind: str, key: str, record: dict[str, Any]) -> dict[str, Any]:
    r = _redis()
    r.incr(f"{PREFIX}:{kind}:attempts:{key}")
    if r.set(f"{PREFIX}:{kind}:{key}", json.dumps(record), nx=True):
        r.incr(f"{PREFIX}:{kind}:made:{key}")
        return record
    return json.loads(r.get(f"{PREFIX}:{kind}:{key}"))


@csrf_exempt
@require_POST
def sandbox_charge(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    key, token = str(data.get("idempotency_key", "")), str(data.get("token", ""))
    if not key or not token:
        return JsonResponse({"status": "invalid", "reason": "idempotency_key and token required"}, status=400)
    token_mode = next((mode for mode in MODES if mode != "approve" and mode in token), None)
    mode, delay = (token_mode, 0.5) if token_mode else _service_mode("payments")
    _redis().incr(f"{PREFIX}:charge:received:{key}")
    refused = _behave(mode, delay)
    if refused is not None:
        return refused
    record = {"status": "approved", "reference": f"ch_{uuid.uuid4().hex[:16]}", "amount": data.get("amount")}
    return JsonResponse(_idempotent_create("charge", key, record))


@csrf_exempt
@require_POST
def sandbox_refund(request: HttpRequest) -> JsonResponse:
    key = str(_body(request).get("charge_key", ""))
    if not _redis().exists(f"{PREFIX}:charge:{key}"):
        return JsonResponse({"status": "no_charge", "reference": None})
    return JsonResponse(_idempotent_create("refund", key, {"reference": f"re_{uuid.uuid4().hex[:16]}"}))


@csrf_exempt
@require_POST
def sandbox_shipment(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    key = str(data.get("idempotency_key", ""))
    if not key:
        return JsonResponse({"status": "invalid", "reason": "idempotency_key required"}, status=400)
    _redis().incr(f"{PREFIX}:shipment:received:{key}")
    refused = _behave(*_service_mode("shipping"))
    if refused is not None:
        return refused
    return JsonResponse(_idempotent_create("shipment", key, {"reference": f"sh_{uuid.uuid4().hex[:16]}"}))


@require_GET
def sandbox_record(request: HttpRequest, kind: str, key: str) -> JsonResponse:
    """What the sandbox did for a key: requests received, requests answered, records made."""
    r = _redis()
    record = r.get(f"{PREFIX}:{kind}:{key}")
    return JsonResponse(
        {
            "received": int(r.get(f"{PREFIX}:{kind}:received:{key}") or 0),
            "attempts": int(r.get(f"{PREFIX}:{kind}:attempts:{key}") or 0),
            "made": int(r.get(f"{PREFIX}:{kind}:made:{key}") or 0),
            "record": json.loads(record) if record else None,
        }
    )
