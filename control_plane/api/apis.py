"""The control-plane REST API for platform staff. Each view parses, calls one service, renders."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from control_plane.api.tokens import REFUSED, StaffTokenAuthentication, staff_token_issue
from httpkit.problems import PROBLEM_CONTENT_TYPE, problem
from provisioning.actions import do_change_tier, do_offboard, do_onboard_tenant, do_retry_failed_run
from provisioning.selectors import tenant_runs
from tenants.actions import do_issue_api_key, do_resume_tenant, do_suspend_tenant
from tenants.models import SLUG_VALIDATOR, ApiKey, Tenant
from tenants.selectors import tenant_list


class StaffAPIView(APIView):
    authentication_classes = [StaffTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAdminUser]


class TokenObtainApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"})

        class Meta:
            ref_name = "TokenObtainInput"

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
        expires_at = serializers.DateTimeField(help_text="After this the token is refused with 401.")

        class Meta:
            ref_name = "StaffToken"

    @extend_schema(
        request=InputSerializer,
        parameters=[
            OpenApiParameter(
                "Retry-After", int, OpenApiParameter.HEADER, response=[429, 503], description="Seconds"
            )
        ],
        responses={
            200: OutputSerializer,
            (400, PROBLEM_CONTENT_TYPE): problem("Invalid input: the fields named in `errors`."),
            (403, PROBLEM_CONTENT_TYPE): problem(f"{REFUSED} (a wrong password and a non-staff user alike)"),
            (429, PROBLEM_CONTENT_TYPE): problem(
                "Too many failed sign-ins for this username or from this address; retry after Retry-After."
            ),
            (503, PROBLEM_CONTENT_TYPE): problem("The sign-in counters are unavailable; retry later."),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = staff_token_issue(request=request._request, **data.validated_data)
        return Response(self.OutputSerializer(issued).data)


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    engine = serializers.CharField()
    progress = serializers.IntegerField()
    steps = serializers.JSONField()
    plan = serializers.JSONField()
    result = serializers.JSONField()
    outputs = serializers.JSONField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField()


class TenantSummarySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    tier = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class TenantDetailSerializer(TenantSummarySerializer):
    admin_email = serializers.EmailField()
    failure_reason = serializers.CharField()
    cell = serializers.CharField(source="cell.name", default=None)
    resources = serializers.JSONField()
    runs = serializers.SerializerMethodField()

    def get_runs(self, tenant: Tenant) -> list[dict]:
        return RunSerializer(tenant_runs(tenant), many=True).data


class TenantListCreateApi(StaffAPIView):
    class InputSerializer(serializers.Serializer):
        slug = serializers.CharField(validators=[SLUG_VALIDATOR])
        name = serializers.CharField(max_length=200)
        tier = serializers.ChoiceField(choices=Tenant.Tier.choices)
        admin_email = serializers.EmailField()

        class Meta:
            ref_name = "TenantCreateInput"

    @extend_schema(responses=TenantSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        tenants = tenant_list(status=request.query_params.get("status"), search=request.query_params.get("q"))
        return Response({"items": TenantSummarySerializer(tenants, many=True).data, "next_cursor": None})

    @extend_schema(request=InputSerializer, responses={202: TenantSummarySerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = do_onboard_tenant(**data.validated_data, actor=request.user).tenant
        return Response({"slug": tenant.slug, "status": tenant.status}, status=status.HTTP_202_ACCEPTED)


class TenantDetailApi(StaffAPIView):
    @extend_schema(responses=TenantDetailSerializer)
    def get(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant.objects.select_related("cell"), slug=slug)
        return Response(TenantDetailSerializer(tenant).data)

    class TierChangeInputSerializer(serializers.Serializer):
        tier = serializers.ChoiceField(choices=Tenant.Tier.choices)

        class Meta:
            ref_name = "TenantTierChangeInput"

    @extend_schema(
        request=TierChangeInputSerializer,
        responses={
            202: RunSerializer,
            (400, PROBLEM_CONTENT_TYPE): problem("Invalid input: the fields named in `errors`."),
            (404, PROBLEM_CONTENT_TYPE): problem("No such tenant."),
            (409, PROBLEM_CONTENT_TYPE): problem(
                "Another run of the tenant is in progress, or it is not live."
            ),
        },
    )
    def patch(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        data = self.TierChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = do_change_tier(tenant=tenant, tier=data.validated_data["tier"], actor=request.user)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: TenantSummarySerializer})
    def delete(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        do_offboard(tenant=tenant, actor=request.user)
        return Response(TenantSummarySerializer(tenant).data, status=status.HTTP_202_ACCEPTED)


class TenantRetryApi(StaffAPIView):
    @extend_schema(request=None, responses={202: TenantSummarySerializer})
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        do_retry_failed_run(tenant=tenant, actor=request.user)
        return Response(TenantSummarySerializer(tenant).data, status=status.HTTP_202_ACCEPTED)


class TenantSuspendApi(StaffAPIView):
    @extend_schema(request=None, responses=TenantSummarySerializer)
    def post(self, request: Request, slug: str) -> Response:
        tenant = do_suspend_tenant(tenant=get_object_or_404(Tenant, slug=slug), actor=request.user)
        return Response(TenantSummarySerializer(tenant).data)


class TenantResumeApi(StaffAPIView):
    @extend_schema(request=None, responses=TenantSummarySerializer)
    def post(self, request: Request, slug: str) -> Response:
        tenant = do_resume_tenant(tenant=get_object_or_404(Tenant, slug=slug), actor=request.user)
        return Response(TenantSummarySerializer(tenant).data)


class ApiKeyCreateApi(StaffAPIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=ApiKey.Scope.choices), min_length=1
        )

        class Meta:
            ref_name = "ApiKeyCreateInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField()
        key = serializers.CharField()
        scopes = serializers.ListField(child=serializers.CharField())
        name = serializers.CharField()

        class Meta:
            ref_name = "ApiKeyCreated"

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = do_issue_api_key(tenant=tenant, actor=request.user, **data.validated_data)
        return Response(self.OutputSerializer(issued).data, status=status.HTTP_201_CREATED)
