"""Orders: submit (202, one transaction), read with history, cancel."""

import logging

from drf_spectacular.utils import OpenApiParameter, extend_schema
from kombu.exceptions import OperationalError
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from resale.api.base import TenantAPIView
from resale.api.serializers import RequestSerializer, map_as_dict, represent
from resale.orders.selectors import order_get
from resale.orders.services import order_cancel, order_submit
from resale.orders.status import OrderStatus
from resale.orders.tasks import order_workflow

logger = logging.getLogger(__name__)


def _start_workflow(tenant_slug: str, order_id: str) -> None:
    """Queues the workflow; the order is already safe in DynamoDB, and a replay queues it again."""
    try:
        order_workflow.delay(tenant_slug, order_id)
    except OperationalError:
        logger.exception("could not queue the workflow of order %s", order_id)


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.CharField()
    at = serializers.CharField()
    actor = serializers.CharField()
    reason = serializers.CharField()

    class Meta:
        ref_name = "OrderStatusChange"


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    listing_id = serializers.CharField()
    buyer_id = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    shipping_address = serializers.SerializerMethodField()
    payment_reference = serializers.CharField(allow_null=True)
    shipment_reference = serializers.CharField(allow_null=True)
    history = StatusChangeSerializer(many=True)
    created_at = serializers.CharField()
    updated_at = serializers.CharField()

    class Meta:
        ref_name = "Order"

    def get_shipping_address(self, order) -> dict:
        return map_as_dict(order.shipping_address)


class OrderSubmittedSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()

    class Meta:
        ref_name = "OrderSubmitted"


class OrderCollectionApi(TenantAPIView):
    required_scopes = {"POST": "write"}

    class InputSerializer(RequestSerializer):
        listing_id = serializers.CharField(max_length=128)
        buyer_id = serializers.CharField(max_length=128)
        buyer_email = serializers.EmailField(required=False)
        shipping_address = serializers.DictField()
        payment_token = serializers.CharField(max_length=512, write_only=True)

        class Meta:
            ref_name = "OrderSubmitInput"

    @extend_schema(
        request=InputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "pattern": "^[!-~]{1,255}$"},
                OpenApiParameter.HEADER,
                description="Any 1 to 255 printable characters; visible ASCII is safe in every client.",
            )
        ],
        responses={202: OrderSubmittedSerializer},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= 255 and key.isprintable()):
            raise serializers.ValidationError({"Idempotency-Key": ["1 to 255 printable characters."]})
        order, created = order_submit(
            route=self.route, actor=self.actor, idempotency_key=key, **data.validated_data
        )
        if created or order.status == OrderStatus.SUBMITTED:
            _start_workflow(self.route.slug, order.id)
        return Response(
            represent(OrderSubmittedSerializer, {"id": order.id, "status": order.status}),
            status=status.HTTP_202_ACCEPTED,
        )


class OrderDetailApi(TenantAPIView):
    @extend_schema(responses={200: OrderOutputSerializer})
    def get(self, request: Request, order_id: str) -> Response:
        return Response(represent(OrderOutputSerializer, order_get(route=self.route, order_id=order_id)))


class OrderCancelApi(TenantAPIView):
    required_scopes = {"POST": "write"}

    @extend_schema(request=None, responses={200: OrderOutputSerializer})
    def post(self, request: Request, order_id: str) -> Response:
        order = order_cancel(route=self.route, actor=self.actor, order_id=order_id)
        _start_workflow(self.route.slug, order.id)
        return Response(represent(OrderOutputSerializer, order))
