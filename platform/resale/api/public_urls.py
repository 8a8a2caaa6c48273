"""Tenant-facing paths outside /api/v1/: the redirect, local media, and the sandbox providers."""

from django.conf import settings
from django.urls import include, path

from resale.api.links import link_redirect
from resale.history.apis import JwksApi
from resale.media.views import media_serve, media_upload

urlpatterns = [
    path("r/<str:tenant_slug>/<str:code>", link_redirect, name="link-redirect"),
    path(".well-known/jwks.json", JwksApi.as_view(), name="jwks"),
    path("media-upload/<str:token>", media_upload, name="media-upload"),
    path("media/<path:key>", media_serve, name="media-serve"),
]
if settings.SANDBOX_PROVIDERS_ENABLED:
    urlpatterns.append(path("sandbox/", include("resale.providers.sandbox_urls")))
