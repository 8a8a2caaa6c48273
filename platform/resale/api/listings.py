"""Listings: create, read, update with If-Match, withdraw, list; image upload URLs."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from resale.api.base import PAGE_LIMIT, TenantAPIView, page_limit
from resale.api.serializers import (
    RequestSerializer,
    amount_field,
    currency_field,
    cursor_field,
    map_as_dict,
    represent,
    validate_money,
)
from resale.listings.errors import VersionRequired
from resale.listings.selectors import listing_get, listing_list
from resale.listings.services import listing_create, listing_update, listing_withdraw
from resale.media.services import image_upload_complete, image_upload_create
from resale.media.storage import media_storage

ONE_FILTER_AT_LEAST = "Send at least one of seller_id, status and category."


class ListingOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    seller_id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    condition = serializers.CharField()
    price = serializers.CharField()
    currency = serializers.CharField()
    attributes = serializers.SerializerMethodField()
    images = serializers.SerializerMethodField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()

    class Meta:
        ref_name = "Listing"

    def get_attributes(self, listing) -> dict:
        return map_as_dict(listing.attributes)

    def get_images(self, listing) -> list[str]:
        storage = media_storage()
        return [storage.public_url(key) for key in listing.image_keys or []]


class ListingPageSerializer(serializers.Serializer):
    items = ListingOutputSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "ListingPage"


class ListingCollectionApi(TenantAPIView):
    required_scopes = {**TenantAPIView.required_scopes, "POST": "write"}

    class InputSerializer(RequestSerializer):
        seller_id = serializers.CharField(max_length=128)
        title = serializers.CharField(max_length=200)
        description = serializers.CharField(max_length=5000, allow_blank=True, default="")
        category = serializers.CharField(max_length=100)
        condition = serializers.CharField(max_length=50)
        price = amount_field()
        currency = currency_field()
        attributes = serializers.DictField(default=dict)

        class Meta:
            ref_name = "ListingCreateInput"

        def validate(self, attrs: dict) -> dict:
            return validate_money(attrs)

    class FilterSerializer(RequestSerializer):
        seller_id = serializers.CharField(max_length=128, required=False, help_text=ONE_FILTER_AT_LEAST)
        status = serializers.ChoiceField(
            ["active", "reserved", "sold", "withdrawn"], required=False, help_text=ONE_FILTER_AT_LEAST
        )
        category = serializers.CharField(max_length=100, required=False, help_text=ONE_FILTER_AT_LEAST)
        cursor = cursor_field()

        class Meta:
            ref_name = "ListingFilter"

        def validate(self, attrs: dict) -> dict:
            if not {"seller_id", "status", "category"} & set(attrs):
                raise serializers.ValidationError(
                    {"seller_id": ["Filter by seller_id, status or category (at least one)."]}
                )
            return attrs

    @extend_schema(request=InputSerializer, responses={201: ListingOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = listing_create(route=self.route, actor=self.actor, **data.validated_data)
        return Response(represent(ListingOutputSerializer, listing), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="api_v1_listings_list",
        parameters=[FilterSerializer, PAGE_LIMIT],
        responses={200: ListingPageSerializer},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = listing_list(route=self.route, limit=page_limit(request), **filters.validated_data)
        page_body = {"items": page.items, "next_cursor": page.next_cursor}
        return Response(represent(ListingPageSerializer, page_body))


IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": r'^(W/)?("[0-9]{1,18}"|[0-9]{1,18})$'},
    OpenApiParameter.HEADER,
    required=True,
    description="The version read, as a number (quoted or not, weak or not).",
)


def _if_match_version(request: Request) -> int:
    raw = request.headers.get("If-Match")
    if raw is None:
        raise VersionRequired("Send the version you read as 'If-Match: <version>'.")
    value = raw.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()):
        raise serializers.ValidationError({"If-Match": ["The listing's version, an integer."]})
    return int(value)


class ListingDetailApi(TenantAPIView):
    required_scopes = {**TenantAPIView.required_scopes, "PATCH": "write", "DELETE": "write"}

    class UpdateSerializer(RequestSerializer):
        seller_id = serializers.CharField(max_length=128, required=False)
        title = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(max_length=5000, allow_blank=True, required=False)
        category = serializers.CharField(max_length=100, required=False)
        condition = serializers.CharField(max_length=50, required=False)
        price = amount_field(required=False)
        currency = currency_field(required=False)
        attributes = serializers.DictField(required=False)

        class Meta:
            ref_name = "ListingUpdateInput"

    @extend_schema(responses={200: ListingOutputSerializer})
    def get(self, request: Request, listing_id: str) -> Response:
        listing = listing_get(route=self.route, listing_id=listing_id)
        return Response(represent(ListingOutputSerializer, listing))

    @extend_schema(
        request=UpdateSerializer,
        parameters=[IF_MATCH],
        responses={200: ListingOutputSerializer},
    )
    def patch(self, request: Request, listing_id: str) -> Response:
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "currency" in changes:
            validate_money({"currency": changes["currency"]})
        listing = listing_update(
            route=self.route,
            actor=self.actor,
            listing_id=listing_id,
            expected_version=_if_match_version(request),
            changes=changes,
        )
        return Response(represent(ListingOutputSerializer, listing))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, listing_id: str) -> Response:
        listing_withdraw(route=self.route, actor=self.actor, listing_id=listing_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ListingImageUploadApi(TenantAPIView):
    required_scopes = {"POST": "write"}

    class InputSerializer(RequestSerializer):
        content_type = serializers.ChoiceField(choices=settings.MEDIA_ALLOWED_TYPES)
        size = serializers.IntegerField(min_value=1, max_value=settings.MEDIA_UPLOAD_MAX_BYTES)

        class Meta:
            ref_name = "ImageUploadInput"

    class OutputSerializer(serializers.Serializer):
        key = serializers.CharField()
        image_id = serializers.SerializerMethodField()
        url = serializers.CharField()
        method = serializers.CharField()
        fields = serializers.DictField()
        headers = serializers.DictField()
        expires_at = serializers.CharField()
        image_url = serializers.CharField()

        class Meta:
            ref_name = "ImageUpload"

        def get_image_id(self, upload) -> str:
            return upload.key.rsplit("/", 1)[-1]

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        description=(
            "A ticket to upload one image straight to storage. Once uploaded, confirm it with "
            "POST /api/v1/listings/{listing_id}/images/{image_id}: only then does the listing show it."
        ),
    )
    def post(self, request: Request, listing_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = image_upload_create(route=self.route, listing_id=listing_id, **data.validated_data)
        return Response(represent(self.OutputSerializer, upload), status=status.HTTP_201_CREATED)


class ListingImageConfirmApi(TenantAPIView):
    required_scopes = {"POST": "write"}

    @extend_schema(
        operation_id="api_v1_listings_images_confirm",
        request=None,
        responses={200: ListingOutputSerializer},
        description="Attaches an uploaded image to its listing; 409 while the upload has not happened.",
    )
    def post(self, request: Request, listing_id: str, image_id: str) -> Response:
        listing = image_upload_complete(
            route=self.route, actor=self.actor, listing_id=listing_id, image_id=image_id
        )
        return Response(represent(ListingOutputSerializer, listing))
