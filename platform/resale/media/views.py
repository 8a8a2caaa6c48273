"""The local storage backend's upload and download endpoints (the S3 backend needs neither)."""

import os
import tempfile

from django.conf import settings
from django.core import signing
from django.http import FileResponse, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from httpkit.problems import problem_response
from resale.media.storage import LocalMediaStorage, local_upload_claim, media_storage


def _local_storage() -> LocalMediaStorage | None:
    storage = media_storage()
    return storage if isinstance(storage, LocalMediaStorage) else None


@csrf_exempt
@require_http_methods(["PUT"])
def media_upload(request: HttpRequest, token: str) -> HttpResponse:
    storage = _local_storage()
    if storage is None:
        return problem_response(request, 404, "Not found", "Uploads go to object storage.")
    try:
        claim = local_upload_claim(token, settings.MEDIA_UPLOAD_URL_SECONDS)
    except signing.BadSignature:
        return problem_response(request, 403, "Forbidden", "This upload URL is invalid or expired.")
    if request.content_type != claim["type"]:
        return problem_response(request, 400, "Invalid upload", f"Send Content-Type: {claim['type']}.")
    declared = request.META.get("CONTENT_LENGTH", "")
    if not declared.isdigit() or int(declared) > claim["size"]:
        return problem_response(request, 413, "Too large", f"This URL accepts at most {claim['size']} bytes.")
    data = request.read(claim["size"] + 1)
    if not data or len(data) > claim["size"]:
        return problem_response(request, 413, "Too large", f"This URL accepts at most {claim['size']} bytes.")
    path = storage.path_of(claim["key"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
        handle.write(data)
    os.replace(handle.name, path)
    return HttpResponse(status=201)


@require_GET
def media_serve(request: HttpRequest, key: str) -> HttpResponse:
    storage = _local_storage()
    try:
        path = storage.path_of(key) if storage else None
    except ValueError:
        path = None
    if path is None or not path.is_file():
        return problem_response(request, 404, "Not found", "No such image.")
    return FileResponse(path.open("rb"))
