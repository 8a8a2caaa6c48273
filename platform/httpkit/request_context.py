"""The request id and tenant of the request being served, for logs and metrics.

A ContextVar, not a thread-local: it is set at the start of each request and reset at
its end, so nothing of one request's tenant can leak into the next one on the thread.
"""

import logging
import os
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestContext:
    request_id: str = "-"
    tenant: str = "-"


current_request_context: ContextVar[RequestContext] = ContextVar(
    "current_request_context",
    default=RequestContext(),  # noqa: B039 - frozen, so immutable
)


def bind_tenant_to_request_context(tenant_slug: str) -> None:
    context = current_request_context.get()
    current_request_context.set(RequestContext(request_id=context.request_id, tenant=tenant_slug))


class RequestContextMiddleware:
    """Gives every request an id (or keeps the caller's X-Request-ID) and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META, not request.headers: nothing else on the API's path builds that mapping of every header.
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else os.urandom(16).hex()
        token = current_request_context.set(RequestContext(request_id=request_id))
        try:
            response = self.get_response(request)
        finally:
            # Django logs a 4xx or 5xx (django.request) after the middlewares have returned: the
            # request keeps its context for that line.
            request.request_context = current_request_context.get()
            current_request_context.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestContextLogFilter(logging.Filter):
    """Adds request_id and tenant to every log record, for the JSON formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        context = getattr(request, "request_context", None) or current_request_context.get()
        record.request_id = getattr(record, "request_id", context.request_id)
        record.tenant = getattr(record, "tenant", context.tenant)
        return True
