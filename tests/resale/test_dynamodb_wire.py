"""The DynamoDB wire: what botocore's client did for item operations, it must still do.

A scripted HTTP server stands in for DynamoDB where a test needs answers DynamoDB Local will
not give on demand (throttling, 5xx, a corrupted body); the rest runs against DynamoDB Local.
"""

import ipaddress
import json
import os
import socket
import ssl
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from pynamodb.attributes import BinaryAttribute, BinarySetAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from resale.binding import TenantRef, _bind, tenant_connection
from resale.dynamodb_wire import DynamoDBWire, WireSettings
from tests.dynamodb_local import free_port


class ScriptedDynamoDB:
    """Answers each POST with the next scripted (status, body) and records what it received."""

    def __init__(
        self,
        answers: list[tuple[int, dict | bytes]],
        corrupt_crc_times: int = 0,
        delay: float = 0,
        tls: tuple[Path, Path] | None = None,
    ):
        self.answers = list(answers)
        self.received: list[dict] = []
        self.corrupt_crc_times = corrupt_crc_times
        self.delay = delay
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps connections alive, as DynamoDB does

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                scripted.received.append(
                    {"headers": dict(self.headers.items()), "body": body, "client": self.client_address}
                )
                if scripted.delay:
                    threading.Event().wait(scripted.delay)
                status, answer = scripted.answers.pop(0) if scripted.answers else (200, {})
                payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                crc = zlib.crc32(payload)
                if scripted.corrupt_crc_times:
                    scripted.corrupt_crc_times -= 1
                    crc += 1
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-amz-crc32", str(crc))
                self.send_header("x-amzn-RequestId", f"req-{len(scripted.received)}")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    servers = []

    def make(answers, **kwargs) -> tuple[ScriptedDynamoDB, DynamoDBWire]:
        server = ScriptedDynamoDB(answers, **kwargs)
        servers.append(server)
        wire = DynamoDBWire(
            WireSettings(
                endpoint_url=server.url,
                region="eu-west-1",
                max_pool_connections=4,
                connect_timeout_seconds=1,
                read_timeout_seconds=kwargs.get("delay", 0) / 2 or 2,
                max_attempts=3,
            ),
            credentials=lambda: Credentials("AKIDEXAMPLE", "secret", "session-token"),
        )
        return server, wire

    yield make
    for server in servers:
        server.close()


GET = {"TableName": "t", "Key": {"id": {"S": "1"}}}


def test_the_operation_is_posted_as_json_with_its_target(scripted):
    server, wire = scripted([(200, {"Item": {"id": {"S": "1"}}})])
    assert wire.call("GetItem", GET) == {"Item": {"id": {"S": "1"}}}
    (request,) = server.received
    assert json.loads(request["body"]) == GET
    assert request["headers"]["X-Amz-Target"] == "DynamoDB_20120810.GetItem"
    assert request["headers"]["Content-Type"] == "application/x-amz-json-1.0"
    assert request["headers"]["X-Amz-Security-Token"] == "session-token"


def test_the_signature_is_sigv4_over_exactly_what_was_sent(scripted):
    server, wire = scripted([(200, {})])
    wire.call("PutItem", {"TableName": "t", "Item": {"id": {"S": "1"}}})
    (request,) = server.received
    headers = request["headers"]
    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "x-amz-target", "content-type", "x-amz-security-token"} <= set(signed)
    # As DynamoDB checks it: the signature over the signed headers as received, with the sent date.
    # Not through add_auth, which signs with the clock's time: a second ticking between the two
    # signatures made them differ.
    resigned = AWSRequest(
        method="POST",
        url=server.url + "/",
        data=request["body"],
        headers={k: v for k, v in headers.items() if k.lower() in set(signed) - {"host"}},
    )
    resigned.context["timestamp"] = headers["X-Amz-Date"]
    botocore_sigv4 = SigV4Auth(Credentials("AKIDEXAMPLE", "secret", "session-token"), "dynamodb", "eu-west-1")
    string_to_sign = botocore_sigv4.string_to_sign(resigned, botocore_sigv4.canonical_request(resigned))
    assert headers["Authorization"].endswith(
        f"Signature={botocore_sigv4.signature(string_to_sign, resigned)}"
    )
    assert "/eu-west-1/dynamodb/aws4_request" in headers["Authorization"]


def test_throttling_is_retried_then_succeeds(scripted):
    throttled = {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "slow down"}
    server, wire = scripted([(400, throttled), (400, throttled), (200, {"Item": {}})])
    assert wire.call("GetItem", GET) == {"Item": {}}
    assert len(server.received) == 3


def test_a_server_error_past_the_last_attempt_is_a_client_error_with_its_status(scripted):
    server, wire = scripted([(500, {"__type": "InternalServerError", "message": "boom"})] * 3)
    with pytest.raises(ClientError) as raised:
        wire.call("GetItem", GET)
    assert raised.value.response["Error"] == {"Code": "InternalServerError", "Message": "boom"}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert raised.value.response["ResponseMetadata"]["RequestId"] == "req-3"
    assert len(server.received) == 3


@pytest.mark.parametrize(("status", "attempts"), [(502, 3), (403, 1), (200, 3)])
def test_an_answer_that_is_not_json_is_a_client_error_named_by_its_status_and_a_503(
    scripted, status, attempts
):
    """A proxy's HTML page, as botocore reads it: the status is the code (a 2xx is a bad gateway),
    retried as that status is; and the API answers 503 for it (a dependency failed), never 500."""
    from pynamodb.exceptions import GetError

    from resale.errors import is_transient_dynamodb_error

    page = b"<html><body>Bad Gateway</body></html>"
    server, wire = scripted([(status, page)] * 3)
    with pytest.raises(ClientError) as raised:
        wire.call("GetItem", GET)
    code = str(status if status >= 300 else 502)
    assert raised.value.response["Error"] == {"Code": code, "Message": page.decode()}
    assert len(server.received) == attempts
    assert is_transient_dynamodb_error(GetError("Failed to get item", cause=raised.value))


def test_a_condition_failure_is_not_retried_and_keeps_its_fields(scripted):
    failed = {
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": "Transaction cancelled",
        "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "no"}],
    }
    server, wire = scripted([(400, failed)])
    with pytest.raises(ClientError) as raised:
        wire.call("TransactWriteItems", {"TransactItems": []})
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert raised.value.response["CancellationReasons"][1]["Code"] == "ConditionalCheckFailed"
    assert len(server.received) == 1


def test_a_corrupted_body_is_detected_by_its_crc_and_fetched_again(scripted):
    server, wire = scripted([(200, {"Item": {"n": {"N": "1"}}})] * 2, corrupt_crc_times=1)
    assert wire.call("GetItem", GET) == {"Item": {"n": {"N": "1"}}}
    assert len(server.received) == 2


def test_a_read_timeout_is_botocores_read_timeout(scripted):
    server, wire = scripted([(200, {})] * 3, delay=0.6)
    with pytest.raises(ReadTimeoutError):
        wire.call("GetItem", GET)
    assert len(server.received) == 3


def test_a_stalled_endpoint_costs_a_call_its_deadline_not_every_attempts_timeout():
    server = ScriptedDynamoDB([(200, {})] * 3, delay=3)
    wire = DynamoDBWire(
        WireSettings(server.url, "us-east-1", 2, 1, 2, 3, deadline_seconds=0.8),
        credentials=lambda: Credentials("a", "b"),
    )
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        wire.call("GetItem", GET)
    assert time.monotonic() - started < 1.2
    server.close()


def test_an_unreachable_endpoint_is_botocores_connection_error():
    wire = DynamoDBWire(
        WireSettings(f"http://127.0.0.1:{free_port()}", "us-east-1", 2, 0.2, 0.2, 2),
        credentials=lambda: Credentials("a", "b"),
    )
    with pytest.raises(EndpointConnectionError):
        wire.call("GetItem", GET)


def test_a_connection_not_accepted_in_time_is_botocores_connect_timeout():
    """A listener whose accept queue is full drops new connections' SYNs, as a blackholed host does."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        queued = []
        for _ in range(4):  # fill the accept queue (never accepted)
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex(listener.getsockname())
            queued.append(client)
        wire = DynamoDBWire(
            WireSettings(f"http://127.0.0.1:{listener.getsockname()[1]}", "us-east-1", 2, 0.3, 2, 1),
            credentials=lambda: Credentials("a", "b"),
        )
        started = time.monotonic()
        with pytest.raises(ConnectTimeoutError):
            wire.call("GetItem", GET)
        assert time.monotonic() - started < 1.5
        for client in queued:
            client.close()


def test_calls_reuse_one_kept_alive_connection_and_big_bodies_go_without_waiting(scripted):
    server, wire = scripted([(200, {})] * 3)
    big_item = {"TableName": "t", "Item": {"id": {"S": "1"}, "text": {"S": "x" * 20_000}}}
    started = time.monotonic()
    for _ in range(3):
        wire.call("PutItem", big_item)
    assert time.monotonic() - started < 0.5  # no 1 s wait for a "100 Continue"
    assert len({request["client"] for request in server.received}) == 1
    assert all("Expect" not in request["headers"] for request in server.received)
    assert json.loads(server.received[-1]["body"]) == big_item


def test_a_forked_child_makes_its_own_connection_and_leaves_its_parents_alone(scripted):
    server, wire = scripted([(200, {"Item": {"who": {"S": "parent"}}})] * 4)
    wire.call("GetItem", GET)
    child = os.fork()
    if child == 0:  # the child: one call, on a connection of its own
        try:
            wire.call("GetItem", GET)
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    assert wire.call("GetItem", GET) == {"Item": {"who": {"S": "parent"}}}
    first, in_child, after = (request["client"] for request in server.received)
    assert in_child != first
    assert after == first


@pytest.fixture(scope="module")
def self_signed_certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no public CA signed: (certificate, key) as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return folder / "cert.pem", folder / "key.pem"


def test_tls_is_verified_against_the_ca_bundle_botocore_would_use(self_signed_certificate):
    server = ScriptedDynamoDB([(200, {"Item": {"id": {"S": "1"}}})] * 2, tls=self_signed_certificate)
    try:

        def wire(ca_bundle: str | None) -> DynamoDBWire:
            settings = WireSettings(server.url, "us-east-1", 2, 1, 2, 1, ca_bundle=ca_bundle)
            return DynamoDBWire(settings, credentials=lambda: Credentials("a", "b"))

        with pytest.raises(EndpointConnectionError):  # not signed by a CA in the default bundle
            wire(None).call("GetItem", GET)
        assert server.received == []
        trusting = wire(str(self_signed_certificate[0]))  # as AWS_CA_BUNDLE would name it
        assert trusting.call("GetItem", GET) == {"Item": {"id": {"S": "1"}}}
    finally:
        server.close()


def test_a_tenant_connection_hands_botocores_ca_bundle_to_the_wire(monkeypatch, tmp_path, settings):
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    settings.DYNAMODB_READ_TIMEOUT_SECONDS = 4.5  # a connection of its own, built with the bundle set
    connection = tenant_connection(TenantRef(slug="ca-bundle"))
    assert connection.wire.settings.ca_bundle == str(bundle)


ddb_ref = TenantRef(slug="wire")


class BinaryThing(Model):
    class Meta:
        table_name = "wire-binary"

    id = UnicodeAttribute(hash_key=True)
    blob = BinaryAttribute(legacy_encoding=False)
    blobs = BinarySetAttribute(legacy_encoding=False)
    label = UnicodeAttribute(null=True)


@pytest.fixture
def binary_model(dynamodb_local, ddb):
    """A throwaway table of a tenant of its own, reached through the wire as tenant tables are."""
    ddb = ddb("wire")
    ddb.create_table(
        TableName="wire-binary",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield _bind(BinaryThing, slug="wire", table_name="wire-binary", connection=tenant_connection(ddb_ref))
    ddb.delete_table(TableName="wire-binary")


@pytest.mark.ddblocal
def test_binary_values_round_trip_as_bytes_through_dynamodb_local(binary_model, ddb):
    raw = bytes(range(256))
    binary_model(id="b", blob=raw, blobs={b"\x00\x01", b"\xff"}, label="B").save()
    stored = ddb("wire").get_item(TableName="wire-binary", Key={"id": {"S": "b"}})["Item"]
    assert stored["blob"]["B"] == raw
    read = binary_model.get("b", consistent_read=True)
    assert (read.blob, read.blobs, read.label) == (raw, {b"\x00\x01", b"\xff"}, "B")
    assert [thing.blob for thing in binary_model.scan()] == [raw]


@pytest.mark.ddblocal
def test_text_in_any_script_is_stored_as_botocore_reads_it(binary_model, ddb):
    """The body is orjson's (raw UTF-8, nothing escaped that JSON allows unescaped), not json's."""
    text = 'Ünïcødé — 東京 🙂 \u2028 "quoted" \\ back\ttab\x01'
    binary_model(id="t", blob=b"1", blobs={b"1"}, label=text).save()
    stored = ddb("wire").get_item(TableName="wire-binary", Key={"id": {"S": "t"}})["Item"]
    assert stored["label"]["S"] == text
    assert binary_model.get("t", consistent_read=True).label == text


@pytest.mark.ddblocal
def test_dynamodb_locals_errors_reach_pynamodb_as_they_did_through_botocore(binary_model):
    binary_model(id="c", blob=b"1", blobs={b"1"}).save()
    with pytest.raises(PutError) as put:
        binary_model(id="c", blob=b"2", blobs={b"2"}).save(condition=binary_model.id.does_not_exist())
    assert put.value.cause_response_code == "ConditionalCheckFailedException"
    with (
        pytest.raises(TransactWriteError) as transaction,
        TransactWrite(connection=tenant_connection(ddb_ref)) as write,
    ):
        write.save(binary_model(id="d", blob=b"3", blobs={b"3"}))
        write.save(binary_model(id="c", blob=b"4", blobs={b"4"}), condition=binary_model.id.does_not_exist())
    reasons = transaction.value.cancellation_reasons
    assert reasons[0] is None and reasons[1].code == "ConditionalCheckFailed"
    assert binary_model.count() == 1


@pytest.mark.ddblocal
def test_item_operations_take_the_wire_and_table_operations_stay_on_botocore(binary_model, monkeypatch):
    connection = tenant_connection(ddb_ref)
    sent = []
    original = connection.wire.call
    monkeypatch.setattr(connection.wire, "call", lambda op, kwargs: sent.append(op) or original(op, kwargs))
    binary_model(id="e", blob=b"5", blobs={b"5"}).save()
    binary_model.get("e")
    assert binary_model.exists()
    assert sent == ["PutItem", "GetItem"]
