"""``POST /api/v1/privacy/erasures``: erase one buyer of the caller's tenant (``write`` scope)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from resale.api.base import TenantAPIView
from resale.api.serializers import RequestSerializer
from resale.privacy.services import buyer_erase


class ErasuresApi(TenantAPIView):
    required_scopes = {"POST": "write"}

    class InputSerializer(RequestSerializer):
        buyer_id = serializers.CharField(max_length=128)

        class Meta:
            ref_name = "ErasureInput"

    class OutputSerializer(serializers.Serializer):
        erasure_id = serializers.CharField()
        erased_at = serializers.CharField()
        erased_by = serializers.CharField()
        orders_scrubbed = serializers.IntegerField()
        webhook_payloads_scrubbed = serializers.IntegerField()

        class Meta:
            ref_name = "Erasure"

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        erasure = buyer_erase(route=self.route, buyer_id=data.validated_data["buyer_id"], actor=self.actor)
        return Response(self.OutputSerializer(erasure).data, status=status.HTTP_202_ACCEPTED)
