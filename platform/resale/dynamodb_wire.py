"""DynamoDB's item operations sent straight over its JSON protocol, through libcurl, signed with SigV4.

Why not botocore's client: per call it validates and serializes against the service model,
resolves the endpoint ruleset, rebuilds the user agent and runs a dozen event hooks; measured on
a GetItem against DynamoDB Local that is about 0.85 ms of CPU. The same call as one signed POST
costs 0.42 ms through urllib3 (most of it http.client and the email package parsing headers) and
0.13 ms through libcurl (pycurl) with the signer of ``resale.sigv4``. The API server makes one
such call per request, so this is the largest part of its CPU that is not Django's.

The protocol is small for item operations: the request body is the operation's arguments as
JSON, the response body is the result as JSON (both through orjson: the standard library's json
was 3 % of the API server's CPU on a listing create), and an error is a 4xx/5xx whose body names the
``__type``. What botocore adds on top is kept: SigV4 (byte for byte botocore's, with credentials
that refresh themselves), the CRC32 check of each response, the standard retry policy (throttling,
transient errors, 5xx and connection failures, with jittered exponential backoff), ``Binary``
values as bytes, TLS verified against the CA bundle botocore would use, and failures raised as
botocore's own ``ClientError`` and connection errors, so PynamoDB and ``resale.errors`` read them
as they read botocore's. Table management (CreateTable, DescribeTable, ...) is not sent here: the
caller keeps botocore's client for those.
"""

import base64
import io
import os
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Any
from urllib.parse import urlsplit

import orjson
import pycurl
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.httpsession import get_cert_path

from resale.backoff import backoff_delay
from resale.sigv4 import DynamoDBSigner

ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)

# botocore's standard retry mode: throttling codes, transient codes and statuses.
RETRYABLE_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
BACKOFF_BASE_SECONDS = 0.025
BACKOFF_MAX_SECONDS = 1.0

TARGET_PREFIX = "DynamoDB_20120810."
BINARY_VALUE = re.compile(rb'"BS?"\s*:\s*[\["]')


class ResponseChecksumMismatch(Exception):
    """The body does not match its x-amz-crc32: corrupted in transit, so the call is retried."""


@dataclass(frozen=True)
class WireSettings:
    endpoint_url: str
    region: str
    max_pool_connections: int
    connect_timeout_seconds: float
    read_timeout_seconds: float
    max_attempts: int
    user_agent: str = "resale-platform dynamodb-wire"
    ca_bundle: str | None = None
    """CA certificates for TLS (botocore's ``ca_bundle``: ``AWS_CA_BUNDLE`` or the config file);
    without one, botocore's own bundle."""
    deadline_seconds: float | None = None
    """The whole call, every attempt and backoff included, ends within this many seconds: a stalled
    endpoint costs the caller this long, then the last attempt's error; ``None``: attempts alone bound it."""


class DynamoDBWire:
    """Sends item operations for one endpoint and one set of credentials through a pool of connections.

    Wires of several credentials (one per tenant) may share one ``CurlHandlePool``: a kept-alive
    connection carries no identity, every request is signed on its own.

    ``credentials`` returns botocore credentials (refreshable ones refresh themselves);
    it is read on every call, so rotated or assumed-role credentials are always current.
    Thread-safe: each call takes a curl handle (and its kept-alive connection) of its own.
    A call's answer must arrive within ``read_timeout_seconds`` of its start, the connection
    included (libcurl bounds a transfer as a whole, not each read), and the connection must be
    made within ``connect_timeout_seconds``; retries stop at ``deadline_seconds`` after the first
    attempt started, each attempt cut short to fit.
    """

    def __init__(
        self,
        settings: WireSettings,
        credentials: Callable[[], Any],
        handles: "CurlHandlePool | None" = None,
    ) -> None:
        self.settings = settings
        self._credentials = credentials
        self._url = settings.endpoint_url.rstrip("/") + "/"
        self._signer = DynamoDBSigner(host=urlsplit(self._url).netloc, region=settings.region)
        self._handles = handles or CurlHandlePool(self.new_handle, max_idle=settings.max_pool_connections)

    def call(self, operation_name: str, operation_kwargs: dict[str, Any]) -> dict[str, Any]:
        """Sends one item operation, retrying as botocore's standard mode would; returns its result."""
        body = orjson.dumps(operation_kwargs, default=_encode_binary)
        deadline = self.settings.deadline_seconds
        ends_at = time.monotonic() + deadline if deadline is not None else None
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send(operation_name, body, _seconds_left(ends_at, self.settings))
            except (
                ClientError,
                ResponseChecksumMismatch,
                ConnectTimeoutError,
                EndpointConnectionError,
                ReadTimeoutError,
            ) as error:
                backoff = backoff_delay(attempt, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_MAX_SECONDS)
                out_of_time = ends_at is not None and time.monotonic() + backoff >= ends_at
                if attempt >= self.settings.max_attempts or out_of_time or not _retryable(error):
                    if isinstance(error, ResponseChecksumMismatch):
                        mismatch = _client_error(operation_name, 500, {}, "ChecksumMismatch", str(error))
                        raise mismatch from error
                    raise
            time.sleep(backoff)

    def new_handle(self) -> pycurl.Curl:
        """A curl handle for this endpoint and these timeouts (the same for every set of credentials)."""
        handle = pycurl.Curl()
        handle.setopt(pycurl.URL, self._url)
        handle.setopt(pycurl.POST, 1)
        handle.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        handle.setopt(pycurl.NOSIGNAL, 1)  # no SIGALRM for timeouts: required with threads
        handle.setopt(pycurl.CONNECTTIMEOUT_MS, int(self.settings.connect_timeout_seconds * 1000))
        handle.setopt(pycurl.TCP_KEEPALIVE, 1)
        handle.setopt(pycurl.USERAGENT, self.settings.user_agent)
        handle.setopt(pycurl.PROXY, "")  # no proxy from the environment: the endpoint is reached directly
        handle.setopt(pycurl.CAINFO, get_cert_path(self.settings.ca_bundle or True))
        return handle

    def _send(self, operation_name: str, body: bytes, timeout_seconds: float) -> dict[str, Any]:
        credentials = self._credentials()
        if credentials is None:
            raise NoCredentialsError()
        request_headers = self._signer.headers(
            credentials.get_frozen_credentials(), TARGET_PREFIX + operation_name, body
        )
        request_headers.append("Expect:")  # libcurl would otherwise wait for 100-continue on big bodies
        header_lines: list[bytes] = []
        data = io.BytesIO()
        handle = self._handles.take()
        try:
            handle.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout_seconds * 1000)))
            handle.setopt(pycurl.HTTPHEADER, request_headers)
            handle.setopt(pycurl.POSTFIELDS, body)
            handle.setopt(pycurl.WRITEDATA, data)
            handle.setopt(pycurl.HEADERFUNCTION, header_lines.append)
            handle.perform()
            status = handle.getinfo(pycurl.RESPONSE_CODE)
        except pycurl.error as exc:
            error = _connection_error(exc, self._url)
            handle.close()
            raise error from exc
        self._handles.give_back(handle)
        payload = data.getvalue()
        headers = _response_headers(header_lines)
        expected_crc = headers.get("x-amz-crc32")
        if expected_crc is not None and int(expected_crc) != zlib.crc32(payload):
            raise ResponseChecksumMismatch(f"x-amz-crc32 {expected_crc} != {zlib.crc32(payload)}")
        try:
            parsed = orjson.loads(payload) if payload else {}
        except ValueError:
            # Not DynamoDB's answer (a proxy's or load balancer's page): as botocore, the status
            # is the error code and the body its message; a 2xx that is not JSON is a bad gateway.
            failed = status if status >= 300 else 502
            text = payload[:1024].decode("utf-8", "replace")
            raise _client_error(operation_name, failed, headers, str(failed), text) from None
        if BINARY_VALUE.search(payload):
            parsed = _decode_binary(parsed)
        if status >= 300:
            error_type = str(parsed.pop("__type", "")).rsplit("#", 1)[-1] or f"HTTP{status}"
            message = parsed.pop("message", None) or parsed.pop("Message", "")
            raise _client_error(operation_name, status, headers, error_type, message, parsed)
        return parsed


def _seconds_left(ends_at: float | None, settings: WireSettings) -> float:
    """How long the next attempt may take: the read timeout, cut to what is left of the deadline."""
    if ends_at is None:
        return settings.read_timeout_seconds
    return min(settings.read_timeout_seconds, ends_at - time.monotonic())


_INHERITED_HANDLES: list[pycurl.Curl] = []
"""Handles a forked process found in its pools: kept referenced, never used or cleaned up."""


class CurlHandlePool:
    """Idle curl handles, each holding its kept-alive connection; a handle serves one call at a time.

    A process forked from one that used the pool (a Celery or web-server worker) must not share its
    parent's connections: the first call in the child sets the inherited handles aside untouched
    (cleaning one up could close its TLS session under the parent) and makes its own.
    """

    def __init__(self, make: Callable[[], pycurl.Curl], *, max_idle: int) -> None:
        self._make = make
        self._max_idle = max_idle
        self._idle: list[pycurl.Curl] = []
        self._pid = os.getpid()
        self._lock = Lock()

    def take(self) -> pycurl.Curl:
        with self._lock:
            if self._pid != os.getpid():
                _INHERITED_HANDLES.extend(self._idle)
                self._idle = []
                self._pid = os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._make()

    def give_back(self, handle: pycurl.Curl) -> None:
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < self._max_idle:
                self._idle.append(handle)
                return
        handle.close()


def _response_headers(lines: list[bytes]) -> dict[str, str]:
    """The response's headers, names in lower case (the status line has no colon)."""
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.decode("latin-1").partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


def _connection_error(exc: pycurl.error, url: str) -> Exception:
    """libcurl's failure as the botocore exception botocore's client would have raised."""
    code, message = exc.args
    if code == pycurl.E_OPERATION_TIMEDOUT:
        # libcurl's timings cannot tell a connect that timed out from a reused connection that
        # did; its message can ("Connection timed out after ..." / "Operation timed out after ...").
        waiting_for_answer = message.startswith("Operation timed out")
        return (ReadTimeoutError if waiting_for_answer else ConnectTimeoutError)(endpoint_url=url, error=exc)
    return EndpointConnectionError(endpoint_url=url, error=exc)


def _retryable(error: Exception) -> bool:
    if isinstance(error, ClientError):
        code = error.response["Error"]["Code"]
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        return code in RETRYABLE_ERROR_CODES or status in RETRYABLE_STATUSES
    return True


def _client_error(
    operation_name: str,
    status: int,
    headers: dict[str, str],
    code: str,
    message: str,
    fields: dict[str, Any] | None = None,
) -> ClientError:
    """A ``ClientError`` shaped as botocore's JSON parser shapes it (modelled fields at the top).

    ``headers`` are the response's, names in lower case."""
    response = {
        **(fields or {}),
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {
            "RequestId": headers.get("x-amzn-requestid", ""),
            "HTTPStatusCode": status,
            "HTTPHeaders": headers,
        },
    }
    return ClientError(response, operation_name)


def _encode_binary(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decode_binary(value: Any) -> Any:
    """Turns every ``{"B": base64}`` and ``{"BS": [base64, ...]}`` attribute value into bytes.

    Safe to apply to a whole response: an item or map maps names to attribute values (dicts),
    so a one-key dict whose value is a string (or a list of strings) can only be a binary value.
    """
    if isinstance(value, dict):
        if len(value) == 1:
            if isinstance(value.get("B"), str):
                return {"B": base64.b64decode(value["B"])}
            members = value.get("BS")
            if isinstance(members, list) and all(isinstance(member, str) for member in members):
                return {"BS": [base64.b64decode(member) for member in members]}
        return {key: _decode_binary(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_decode_binary(child) for child in value]
    return value
