from django.urls import path

from control_plane.api import apis

urlpatterns = [
    path("token", apis.TokenObtainApi.as_view(), name="control-token"),
    path("tenants", apis.TenantListCreateApi.as_view(), name="control-tenants"),
    path("tenants/<str:slug>", apis.TenantDetailApi.as_view(), name="control-tenant"),
    path("tenants/<str:slug>/suspend", apis.TenantSuspendApi.as_view(), name="control-tenant-suspend"),
    path("tenants/<str:slug>/resume", apis.TenantResumeApi.as_view(), name="control-tenant-resume"),
    path("tenants/<str:slug>/retry", apis.TenantRetryApi.as_view(), name="control-tenant-retry"),
    path("tenants/<str:slug>/api-keys", apis.ApiKeyCreateApi.as_view(), name="control-tenant-api-keys"),
]
