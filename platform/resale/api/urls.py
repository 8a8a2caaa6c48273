from django.urls import path

from resale.api import links, listings, orders

urlpatterns = [
    path("listings", listings.ListingCollectionApi.as_view(), name="listing-collection"),
    path("listings/<str:listing_id>", listings.ListingDetailApi.as_view(), name="listing-detail"),
    path("listings/<str:listing_id>/images", listings.ListingImageUploadApi.as_view(), name="listing-images"),
    path("orders", orders.OrderCollectionApi.as_view(), name="order-collection"),
    path("orders/<str:order_id>", orders.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<str:order_id>/cancel", orders.OrderCancelApi.as_view(), name="order-cancel"),
    path("links", links.LinkCollectionApi.as_view(), name="link-collection"),
]
