"""``GET /api/v1/search``: ranked active listings of the caller's tenant (``read`` scope)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from resale.api.base import TenantAPIView
from resale.api.serializers import RequestSerializer, cursor_field
from resale.search.selectors import SearchCriteria, search_page


class SearchResultSerializer(serializers.Serializer):
    id = serializers.CharField(source="listing_id")
    title = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    condition = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    seller_id = serializers.CharField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.CharField(source="listing_created_at")
    rank = serializers.FloatField(required=False)

    class Meta:
        ref_name = "SearchResult"


class SearchApi(TenantAPIView):
    class FilterSerializer(RequestSerializer):
        q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
        category = serializers.CharField(required=False, max_length=100)
        min_price = serializers.DecimalField(
            required=False, max_digits=14, decimal_places=2, min_value=0, help_text="At most max_price."
        )
        max_price = serializers.DecimalField(required=False, max_digits=14, decimal_places=2, min_value=0)
        cursor = cursor_field()
        limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)

        class Meta:
            ref_name = "SearchFilter"

        def validate(self, attrs):
            low, high = attrs.get("min_price"), attrs.get("max_price")
            if low is not None and high is not None and low > high:
                raise serializers.ValidationError({"min_price": ["Greater than max_price."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        items = SearchResultSerializer(many=True)
        next_cursor = serializers.CharField(allow_null=True)

        class Meta:
            ref_name = "SearchPage"

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        criteria = SearchCriteria(
            q=data["q"],
            category=data.get("category"),
            min_price=data.get("min_price"),
            max_price=data.get("max_price"),
        )
        page = search_page(
            tenant_slug=self.route.slug, criteria=criteria, cursor=data.get("cursor"), limit=data["limit"]
        )
        return Response(self.OutputSerializer(page).data)
