"""A URLconf for the usage middleware's tests: a view bound to a tenant that answers a chosen status."""

from django.http import HttpResponse
from django.urls import path

from httpkit.request_context import bind_tenant_to_request_context


def tenant_view(request, slug: str, status: int) -> HttpResponse:
    bind_tenant_to_request_context(slug)
    return HttpResponse(status=status)


def anonymous_view(request) -> HttpResponse:
    return HttpResponse()


urlpatterns = [
    path("t/<str:slug>/<int:status>", tenant_view),
    path("anonymous", anonymous_view),
]
