"""The API's hot requests leave nothing for the garbage collector to free.

An object cycle left by a request is freed only by a collection, which holds the GIL from every
other request's thread while it walks the young objects: with some 60 such objects per listing
create, one ran every dozen requests. Here each request goes through the WSGI application as the
server calls it, with the collector off, and a collection afterwards must find nothing.
"""

import gc
import io
import json
import sys

import pytest
from django.core.wsgi import get_wsgi_application

from tests.resale.api.in_process import keeping_the_test_connection
from tests.resale.conftest import listing_body

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


def call(application, method: str, path: str, key: str | None = None, body: dict | None = None):
    raw = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(raw), "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "wsgi.version": (1, 0), "HTTP_HOST": "testserver",
    }  # fmt: skip
    if raw:
        environ |= {"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw))}
    if key:
        environ["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    statuses = []
    chunks = application(environ, lambda status, headers, exc_info=None: statuses.append(status))
    content = b"".join(chunks)
    chunks.close()
    return int(statuses[0].split()[0]), content


def garbage_left_by(request) -> int:
    """Objects in cycles that ``request()`` left, counted by a collection with the collector off."""
    gc.collect()
    gc.disable()
    try:
        request()
        return gc.collect()
    finally:
        gc.enable()


@pytest.fixture
def keeping_the_test_transaction():
    with keeping_the_test_connection():
        yield


@pytest.mark.usefixtures("keeping_the_test_transaction")
def test_a_listing_create_a_read_and_a_redirect_leave_no_cycles(tenant_api):
    api = tenant_api()
    application = get_wsgi_application()
    status, content = call(application, "POST", "/api/v1/listings", api.key, listing_body())
    assert status == 201, content
    listing_id = json.loads(content)["id"]
    status, content = call(
        application, "POST", "/api/v1/links", api.key, {"target_url": "https://example.com/a"}
    )
    assert status == 201, content
    code = json.loads(content)["code"]

    requests = {
        "create": lambda: call(application, "POST", "/api/v1/listings", api.key, listing_body()),
        "read": lambda: call(application, "GET", f"/api/v1/listings/{listing_id}", api.key),
        "redirect": lambda: call(application, "GET", f"/r/{api.slug}/{code}"),
    }
    for name, request in requests.items():
        request()  # the first of a kind fills the process's caches
        assert garbage_left_by(request) == 0, name
