from django.urls import path

from resale.providers import sandbox

urlpatterns = [
    path("control", sandbox.sandbox_control, name="sandbox-control"),
    path("payments/charges", sandbox.sandbox_charge, name="sandbox-charge"),
    path("payments/refunds", sandbox.sandbox_refund, name="sandbox-refund"),
    path("shipping/shipments", sandbox.sandbox_shipment, name="sandbox-shipment"),
    path("records/<str:kind>/<str:key>", sandbox.sandbox_record, name="sandbox-record"),
]
