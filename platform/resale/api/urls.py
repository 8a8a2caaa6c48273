from django.urls import path

from resale.api import links, listings, orders
from resale.history.apis import (
    AuditCheckpointsApi,
    AuditDeadLettersApi,
    AuditEventsApi,
    AuditReportCsvApi,
    AuditVerifyApi,
)
from resale.privacy.apis import ErasuresApi
from resale.search.apis import SearchApi
from resale.webhooks.apis import (
    WebhookDeliveriesApi,
    WebhookDeliveryRedriveApi,
    WebhookDetailApi,
    WebhooksApi,
    WebhookTestApi,
)

urlpatterns = [
    path("listings", listings.ListingCollectionApi.as_view(), name="listing-collection"),
    path("listings/<str:listing_id>", listings.ListingDetailApi.as_view(), name="listing-detail"),
    path("listings/<str:listing_id>/images", listings.ListingImageUploadApi.as_view(), name="listing-images"),
    path(
        "listings/<str:listing_id>/images/<str:image_id>",
        listings.ListingImageConfirmApi.as_view(),
        name="listing-image-confirm",
    ),
    path("orders", orders.OrderCollectionApi.as_view(), name="order-collection"),
    path("orders/<str:order_id>", orders.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<str:order_id>/cancel", orders.OrderCancelApi.as_view(), name="order-cancel"),
    path("links", links.LinkCollectionApi.as_view(), name="link-collection"),
    path("audit/events", AuditEventsApi.as_view(), name="audit-events"),
    path("audit/verify", AuditVerifyApi.as_view(), name="audit-verify"),
    path("audit/checkpoints", AuditCheckpointsApi.as_view(), name="audit-checkpoints"),
    path("audit/dead-letters", AuditDeadLettersApi.as_view(), name="audit-dead-letters"),
    path("audit/report.csv", AuditReportCsvApi.as_view(), name="audit-report-csv"),
    path("privacy/erasures", ErasuresApi.as_view(), name="privacy-erasures"),
    path("search", SearchApi.as_view(), name="search"),
    path("webhooks", WebhooksApi.as_view(), name="webhooks"),
    path("webhooks/<str:webhook_id>", WebhookDetailApi.as_view(), name="webhook-detail"),
    path("webhooks/<str:webhook_id>/deliveries", WebhookDeliveriesApi.as_view(), name="webhook-deliveries"),
    path(
        "webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/redrive",
        WebhookDeliveryRedriveApi.as_view(),
        name="webhook-delivery-redrive",
    ),
    path("webhooks/<str:webhook_id>/test", WebhookTestApi.as_view(), name="webhook-test"),
]
