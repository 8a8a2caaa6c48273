from django.urls import path

from control_plane.api import apis, fleet

urlpatterns = [
    path("token", apis.TokenObtainApi.as_view(), name="control-token"),
    path("tenants", apis.TenantListCreateApi.as_view(), name="control-tenants"),
    path("tenants/<str:slug>", apis.TenantDetailApi.as_view(), name="control-tenant"),
    path("tenants/<str:slug>/suspend", apis.TenantSuspendApi.as_view(), name="control-tenant-suspend"),
    path("tenants/<str:slug>/resume", apis.TenantResumeApi.as_view(), name="control-tenant-resume"),
    path("tenants/<str:slug>/retry", apis.TenantRetryApi.as_view(), name="control-tenant-retry"),
    path("tenants/<str:slug>/api-keys", apis.ApiKeyCreateApi.as_view(), name="control-tenant-api-keys"),
    path("tenants/<str:slug>/drift", fleet.TenantDriftApi.as_view(), name="control-tenant-drift"),
    path("rollouts", fleet.RolloutListCreateApi.as_view(), name="control-rollouts"),
    path("rollouts/<int:rollout_id>", fleet.RolloutDetailApi.as_view(), name="control-rollout"),
    path("rollouts/<int:rollout_id>/resume", fleet.RolloutResumeApi.as_view(), name="control-rollout-resume"),
    path("rollouts/<int:rollout_id>/cancel", fleet.RolloutCancelApi.as_view(), name="control-rollout-cancel"),
]
