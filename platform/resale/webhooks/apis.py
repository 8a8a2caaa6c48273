"""Webhooks of the caller's tenant: register (secret shown once), list, delete, deliveries, redrive, test."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from httpkit.problems import PROBLEM_CONTENT_TYPE, problem
from resale.api.base import TenantAPIView
from resale.api.serializers import RequestSerializer
from resale.webhooks.events import ALL_EVENTS, EVENT_TYPES
from resale.webhooks.services import (
    webhook_deliveries_list,
    webhook_delivery_redrive,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_get,
    webhook_subscriptions_list,
    webhook_test_send,
)

NOT_FOUND = {(404, PROBLEM_CONTENT_TYPE): problem("No such webhook (or delivery) in this tenant.")}
SENDS_LIMITED = {
    (429, PROBLEM_CONTENT_TYPE): problem(
        "Over the tenant's quota, or over its tier's webhook test deliveries and redrives a minute "
        "(`webhook_sends_per_minute`); retry after Retry-After."
    )
}


class WebhookApi(TenantAPIView):
    """Webhook endpoints: reads need ``read``, every other method ``write`` (the base's rule)."""


class WebhookSerializer(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Webhook"


class DeliverySerializer(serializers.Serializer):
    id = serializers.CharField()
    webhook_id = serializers.CharField(source="subscription_id")
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(
        help_text="Why the last attempt failed, in the platform's words: a status code and a length, "
        "never the receiver's answer."
    )
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "WebhookDelivery"


class WebhooksApi(WebhookApi):
    class InputSerializer(RequestSerializer):
        url = serializers.URLField(max_length=2000)
        events = serializers.ListField(
            child=serializers.ChoiceField(choices=sorted(EVENT_TYPES | {ALL_EVENTS})),
            min_length=1,
            max_length=50,
        )

        class Meta:
            ref_name = "WebhookCreateInput"

    class CreatedSerializer(WebhookSerializer):
        secret = serializers.CharField(help_text="Shown this once: keep it to verify signatures.")

        class Meta:
            ref_name = "WebhookCreated"

    class ListSerializer(serializers.Serializer):
        items = WebhookSerializer(many=True)
        next_cursor = serializers.CharField(allow_null=True)

        class Meta:
            ref_name = "WebhookList"

    @extend_schema(
        request=InputSerializer,
        responses={
            201: CreatedSerializer,
            (400, PROBLEM_CONTENT_TYPE): problem(
                "Invalid input (`errors` names each bad field), or a URL refused: not http(s), "
                "its host does not resolve, or it points into a private network."
            ),
            (409, PROBLEM_CONTENT_TYPE): problem(
                "The tenant has as many webhooks as its tier allows (`max_webhooks`); delete one first."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        subscription = webhook_subscription_create(
            tenant_slug=self.route.slug, policy=self.route.policy, actor=self.actor, **payload.validated_data
        )
        return Response(self.CreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="webhooks_list",
        responses={200: ListSerializer},
    )
    def get(self, request: Request) -> Response:
        subscriptions = list(webhook_subscriptions_list(tenant_slug=self.route.slug)[:100])
        return Response(self.ListSerializer({"items": subscriptions, "next_cursor": None}).data)


class WebhookDetailApi(WebhookApi):
    @extend_schema(responses={200: WebhookSerializer, **NOT_FOUND})
    def get(self, request: Request, webhook_id: str) -> Response:
        subscription = webhook_subscription_get(tenant_slug=self.route.slug, webhook_id=webhook_id)
        return Response(WebhookSerializer(subscription).data)

    @extend_schema(responses={204: None, **NOT_FOUND})
    def delete(self, request: Request, webhook_id: str) -> Response:
        webhook_subscription_delete(tenant_slug=self.route.slug, webhook_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesApi(WebhookApi):
    class FilterSerializer(RequestSerializer):
        status = serializers.ChoiceField(choices=["pending", "succeeded", "dead"], required=False)

        class Meta:
            ref_name = "WebhookDeliveriesFilter"

    class ListSerializer(serializers.Serializer):
        items = DeliverySerializer(many=True)
        next_cursor = serializers.CharField(allow_null=True)

        class Meta:
            ref_name = "WebhookDeliveryList"

    @extend_schema(
        parameters=[FilterSerializer],
        responses={
            200: ListSerializer,
            **NOT_FOUND,
            (400, PROBLEM_CONTENT_TYPE): problem("Invalid filter: `errors` names it."),
        },
    )
    def get(self, request: Request, webhook_id: str) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        webhook_subscription_get(tenant_slug=self.route.slug, webhook_id=webhook_id)
        deliveries = webhook_deliveries_list(
            tenant_slug=self.route.slug,
            webhook_id=webhook_id,
            status=params.validated_data.get("status"),
        )[:100]
        return Response(self.ListSerializer({"items": list(deliveries), "next_cursor": None}).data)


class WebhookDeliveryRedriveApi(WebhookApi):
    @extend_schema(
        request=None,
        responses={200: DeliverySerializer, **NOT_FOUND, **SENDS_LIMITED},
    )
    def post(self, request: Request, webhook_id: str, delivery_id: str) -> Response:
        webhook_subscription_get(tenant_slug=self.route.slug, webhook_id=webhook_id)
        delivery = webhook_delivery_redrive(
            tenant_slug=self.route.slug, policy=self.route.policy, delivery_id=delivery_id
        )
        return Response(DeliverySerializer(delivery).data)


class WebhookTestApi(WebhookApi):
    @extend_schema(
        request=None,
        responses={202: DeliverySerializer, **NOT_FOUND, **SENDS_LIMITED},
    )
    def post(self, request: Request, webhook_id: str) -> Response:
        delivery = webhook_test_send(
            tenant_slug=self.route.slug, policy=self.route.policy, webhook_id=webhook_id
        )
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
