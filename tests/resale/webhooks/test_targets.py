"""Server-side request forgery: a delivery reaches only the address it checked, follows no
redirect, and nothing the receiver answers is kept beyond a status code and a length."""

import ssl
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from resale.models import WebhookDelivery
from resale.webhooks.errors import WebhookTargetRefused
from resale.webhooks.services import webhook_delivery_attempt
from resale.webhooks.targets import webhook_target_check, webhook_target_resolve
from tests.resale.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.216.34"


@pytest.fixture
def private_targets_refused(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False


def test_a_host_answering_public_then_loopback_is_refused_at_delivery_and_loopback_gets_nothing(
    dns, private_targets_refused, receiver, test_delivery
):
    internal = receiver()
    dns.answers = [[PUBLIC], ["127.0.0.1"]]
    hook, delivery = test_delivery(f"http://hooks.rebind.test:{internal.server.server_address[1]}/hooks")
    assert dns.lookups == 1, "the URL was checked against the first answer when it was registered"

    webhook_delivery_attempt(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert internal.requests == []
    assert (delivery.last_status_code, delivery.last_error) == (
        None,
        "The URL points into a private network.",
    )


def test_an_attempt_connects_to_the_address_it_checked_even_when_the_name_then_answers_another(
    dns, unique_slug, test_delivery
):
    checked = Receiver(host="127.0.0.1").start()
    other = Receiver(host="127.0.0.2", port=checked.server.server_address[1]).start()
    try:
        dns.answers = [["127.0.0.1"], ["127.0.0.2"]]
        hook, delivery = test_delivery(f"http://hooks.rebind.test:{checked.server.server_address[1]}/hooks")
        assert dns.lookups == 0, "with private targets allowed, registering checks only the URL's form"

        webhook_delivery_attempt(delivery_id=delivery.id)
    finally:
        checked.stop()
        other.stop()

    assert dns.lookups == 1, "one lookup per attempt: the HTTP client never resolves the name itself"
    (request,) = checked.requests
    assert request.headers["host"] == f"hooks.rebind.test:{checked.server.server_address[1]}"
    assert other.requests == []
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED


@pytest.mark.parametrize(
    "answer",
    [[PUBLIC, "127.0.0.1"], ["10.0.0.7"], ["169.254.169.254"], ["::ffff:127.0.0.1"], ["::1"], ["224.0.0.1"]],
)
def test_a_name_with_any_private_answer_is_refused_when_private_targets_are_off(
    dns, private_targets_refused, answer
):
    dns.answers = [answer]
    with pytest.raises(WebhookTargetRefused, match="private network"):
        webhook_target_check("https://hooks.rebind.test/in")


def test_a_public_answer_is_accepted_and_becomes_the_address_to_connect_to(dns, private_targets_refused):
    dns.answers = [[PUBLIC]]
    target = webhook_target_resolve("https://hooks.rebind.test/in")
    assert (target.host, target.port, target.address) == ("hooks.rebind.test", 443, PUBLIC)


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example/", "file:///etc/passwd", "http:///nohost", "http://h:99999/"]
)
def test_only_http_and_https_urls_with_a_host_and_a_port_are_accepted(url):
    with pytest.raises(WebhookTargetRefused):
        webhook_target_check(url)


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(receiver, test_delivery):
    inside = receiver()
    redirecting = receiver(status=302, answer_headers={"Location": inside.url})
    hook, delivery = test_delivery(redirecting.url)

    webhook_delivery_attempt(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert len(redirecting.requests) == 1 and inside.requests == []
    assert (delivery.status, delivery.last_status_code) == (WebhookDelivery.Status.PENDING, 302)


def test_the_receivers_answer_body_is_never_kept_only_its_status_and_length(receiver, test_delivery):
    leaky = receiver(fail_first=1, answer_body=b"internal-token=hunter2 " * 10)
    hook, delivery = test_delivery(leaky.url)

    webhook_delivery_attempt(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert delivery.last_status_code == 500
    assert delivery.last_error == "answered 500 with 230 bytes (body not kept)"
    stored = WebhookDelivery.objects.filter(id=delivery.id).values().get()
    assert not any("hunter2" in str(value) for value in stored.values())


def _certificate_authority(tmp_path, server_name: str) -> tuple[str, ssl.SSLContext, list[str]]:
    """A CA file, and a server context whose certificate (signed by it) names ``server_name``;
    the list collects the SNI names the server is sent."""
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)

    def certificate(subject: str, key, issuer: str, signer, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_cert = certificate("test CA", ca_key, "test CA", ca_key, ca=True)
    leaf_cert = certificate(server_name, leaf_key, "test CA", ca_key, ca=False)
    ca_file, chain_file, key_file = tmp_path / "ca.pem", tmp_path / "leaf.pem", tmp_path / "leaf.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(leaf_cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_file, key_file)
    names: list[str] = []
    context.sni_callback = lambda connection, name, _context: names.append(name)
    return str(ca_file), context, names


@pytest.mark.parametrize(
    ("certified_name", "delivered"), [("hooks.rebind.test", True), ("elsewhere.rebind.test", False)]
)
def test_an_https_delivery_pinned_to_the_checked_address_sends_the_hosts_sni_and_checks_its_certificate(
    dns, settings, tmp_path, receiver, test_delivery, certified_name, delivered
):
    ca_file, context, names = _certificate_authority(tmp_path, certified_name)
    settings.WEBHOOK_CA_BUNDLE = ca_file
    secure = receiver(tls=context)
    dns.answers = [["127.0.0.1"]]
    hook, delivery = test_delivery(f"https://hooks.rebind.test:{secure.server.server_address[1]}/hooks")

    webhook_delivery_attempt(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert names == ["hooks.rebind.test"]
    if delivered:
        assert delivery.status == WebhookDelivery.Status.SUCCEEDED and len(secure.requests) == 1
    else:
        assert secure.requests == []
        assert delivery.last_error.startswith("TLS certificate not valid for the host")
