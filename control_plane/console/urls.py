from django.urls import path

from control_plane.console.views import audit, auth, fleet, staff, tenant, webhooks

app_name = "console"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.ConsoleLoginView.as_view(), name="login"),
    path("logout/", auth.ConsoleLogoutView.as_view(), name="logout"),
    path("invitations/<str:token>/", auth.invitation_accept_view, name="invitation"),
    # Platform staff
    path("staff/tenants/", staff.tenant_list_view, name="staff-tenants"),
    path("staff/onboard/", staff.onboarding_view, name="staff-onboard"),
    path("staff/health/", staff.health_view, name="staff-health"),
    path("staff/rollouts/", fleet.rollout_list_view, name="staff-rollouts"),
    path("staff/rollouts/<int:rollout_id>/", fleet.rollout_detail_view, name="staff-rollout"),
    path(
        "staff/rollouts/<int:rollout_id>/<str:action>/",
        fleet.rollout_action_view,
        name="staff-rollout-action",
    ),
    path("staff/drift/", fleet.drift_fleet_view, name="staff-drift"),
    path("staff/drift/<str:slug>/", fleet.tenant_drift_view, name="staff-tenant-drift"),
    path("staff/tenants/<str:slug>/", staff.tenant_detail_view, name="staff-tenant"),
    path("staff/tenants/<str:slug>/retry/", staff.onboarding_retry_view, name="staff-retry"),
    path("staff/tenants/<str:slug>/invite-admin/", staff.invite_tenant_admin_view, name="staff-invite-admin"),
    path("staff/tenants/<str:slug>/runs/<int:run_id>/", staff.run_view, name="staff-run"),
    path(
        "staff/tenants/<str:slug>/runs/<int:run_id>/progress/",
        staff.run_progress_view,
        name="staff-run-progress",
    ),
    path("staff/tenants/<str:slug>/<str:action>/", staff.tenant_action_view, name="staff-tenant-action"),
    # Tenant admins
    path("t/<str:slug>/listings/", tenant.listing_list_view, name="listings"),
    path("t/<str:slug>/listings/<str:listing_id>/", tenant.listing_edit_view, name="listing-edit"),
    path(
        "t/<str:slug>/listings/<str:listing_id>/withdraw/",
        tenant.listing_withdraw_view,
        name="listing-withdraw",
    ),
    path("t/<str:slug>/orders/", tenant.order_list_view, name="orders"),
    path("t/<str:slug>/orders/<str:order_id>/", tenant.order_detail_view, name="order"),
    path("t/<str:slug>/usage/", tenant.usage_view, name="usage"),
    path("t/<str:slug>/api-keys/", tenant.api_keys_view, name="api-keys"),
    path("t/<str:slug>/api-keys/<str:key_id>/revoke/", tenant.api_key_revoke_view, name="api-key-revoke"),
    path("t/<str:slug>/webhooks/", webhooks.webhooks_view, name="webhooks"),
    path(
        "t/<str:slug>/webhooks/deliveries/<str:delivery_id>/redrive/",
        webhooks.delivery_redrive_view,
        name="webhook-delivery-redrive",
    ),
    path("t/<str:slug>/webhooks/<str:webhook_id>/", webhooks.webhook_detail_view, name="webhook"),
    path("t/<str:slug>/webhooks/<str:webhook_id>/test/", webhooks.webhook_test_view, name="webhook-test"),
    path(
        "t/<str:slug>/webhooks/<str:webhook_id>/delete/", webhooks.webhook_delete_view, name="webhook-delete"
    ),
    path("t/<str:slug>/team/", tenant.team_view, name="team"),
    path(
        "t/<str:slug>/team/members/<int:membership_id>/remove/",
        tenant.member_remove_view,
        name="team-member-remove",
    ),
    path(
        "t/<str:slug>/team/invitations/<int:invitation_id>/withdraw/",
        tenant.invitation_withdraw_view,
        name="team-invitation-withdraw",
    ),
    path("t/<str:slug>/schema/", tenant.attribute_schema_view, name="schema"),
    # Auditors (and admins)
    path("t/<str:slug>/history/", audit.history_view, name="history"),
    path("t/<str:slug>/history.csv", audit.history_export_view, name="history-csv"),
    path("t/<str:slug>/chain/", audit.chain_view, name="chain"),
    path("t/<str:slug>/evidence.zip", audit.evidence_download_view, name="evidence"),
    path("t/<str:slug>/activity/", audit.activity_view, name="activity"),
]
