from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from control_plane.console.unavailable import answers_503_when_a_dependency_fails
from control_plane.ops import views as ops

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False), name="root"),
    path("console/", include("control_plane.console.urls")),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("control/v1/", include("control_plane.api.urls")),
    path("api/v1/", include("resale.api.urls")),
    # Django's admin sign-in answers 503, not 500, while the lockout's counters (Redis) are down.
    path("admin/login/", answers_503_when_a_dependency_fails(admin.site.login)),
    path("admin/", admin.site.urls),
    path("", include("resale.api.public_urls")),
]

handler404 = "control_plane.ops.views.not_found"
handler500 = "control_plane.ops.views.server_error"
