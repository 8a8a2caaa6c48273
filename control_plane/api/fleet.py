"""The control-plane API of the fleet: a tenant's drift, and rollouts of the tenant program."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from control_plane.api.apis import StaffAPIView
from httpkit.openapi_request_rules import OPENAPI_STYLE
from httpkit.problems import PROBLEM_CONTENT_TYPE, problem
from provisioning.actions import do_cancel_rollout, do_resume_rollout, do_start_rollout
from provisioning.drift import tenant_drift
from provisioning.models import Rollout
from provisioning.rollouts import ALL
from provisioning.selectors import rollout_list, rollout_waves
from tenants.models import SLUG_VALIDATOR, Tenant

NOT_FOUND = problem("No such tenant or rollout.")


class TenantDriftApi(StaffAPIView):
    class OutputSerializer(serializers.Serializer):
        class ResourceSerializer(serializers.Serializer):
            type = serializers.CharField()
            name = serializers.CharField()
            status = serializers.ChoiceField(choices=["in_sync", "drifted", "missing"])
            differences = serializers.ListField(child=serializers.CharField())

            class Meta:
                ref_name = "DriftedResource"

        slug = serializers.CharField()
        checked_at = serializers.DateTimeField()
        in_sync = serializers.BooleanField()
        resources = ResourceSerializer(many=True)

        class Meta:
            ref_name = "TenantDrift"

    @extend_schema(
        responses={
            200: OutputSerializer,
            (404, PROBLEM_CONTENT_TYPE): NOT_FOUND,
            (409, PROBLEM_CONTENT_TYPE): problem("The tenant is not live: it has no resources to compare."),
        }
    )
    def get(self, request: Request, slug: str) -> Response:
        drift = tenant_drift(tenant=get_object_or_404(Tenant.objects.select_related("cell"), slug=slug))
        return Response(self.OutputSerializer(drift).data)


class RolloutSerializer(serializers.Serializer):
    class WaveSerializer(serializers.Serializer):
        class EntrySerializer(serializers.Serializer):
            slug = serializers.CharField(source="tenant.slug")
            status = serializers.CharField()
            plan = serializers.JSONField()
            planned_changes = serializers.BooleanField()
            result = serializers.JSONField()
            error = serializers.CharField()
            run = serializers.IntegerField(source="run_id")

            class Meta:
                ref_name = "RolloutTenant"

        number = serializers.IntegerField()
        tenants = EntrySerializer(many=True)

        class Meta:
            ref_name = "RolloutWave"

    id = serializers.IntegerField()
    status = serializers.CharField()
    preview = serializers.BooleanField()
    canary = serializers.IntegerField()
    wave_size = serializers.IntegerField()
    max_parallel = serializers.IntegerField()
    max_failures = serializers.IntegerField()
    halted_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField()
    waves = serializers.SerializerMethodField()

    @extend_schema_field(WaveSerializer(many=True))
    def get_waves(self, rollout: Rollout) -> list[dict]:
        return self.WaveSerializer(rollout_waves(rollout), many=True).data

    class Meta:
        ref_name = "Rollout"


MAX_TENANTS_PER_ROLLOUT = 100_000


ROLLOUT_TARGETS_SCHEMA = {
    "oneOf": [
        {"type": "string", "enum": ["all"]},
        {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "pattern": SLUG_VALIDATOR.regex.pattern},
        },
    ]
}
"""``tenants`` as ``provisioning.rollouts`` reads it; that each slug names a tenant only the server knows."""


class RolloutListCreateApi(StaffAPIView):
    class InputSerializer(serializers.Serializer):
        tenants = serializers.JSONField(
            help_text='Required: "all", or a non-empty list of tenant slugs',
            style={OPENAPI_STYLE: ROLLOUT_TARGETS_SCHEMA},
        )
        # Bounded by what the registry can hold (and no fleet needs more): a larger number is a 400.
        canary = serializers.IntegerField(min_value=0, max_value=MAX_TENANTS_PER_ROLLOUT, default=1)
        wave_size = serializers.IntegerField(min_value=1, max_value=MAX_TENANTS_PER_ROLLOUT, default=10)
        max_parallel = serializers.IntegerField(min_value=1, max_value=100, default=2)
        max_failures = serializers.IntegerField(min_value=0, max_value=MAX_TENANTS_PER_ROLLOUT, default=0)
        preview = serializers.BooleanField(default=False)

        def validate_tenants(self, value):
            if value == ALL:
                return value
            if not isinstance(value, list) or not value or not all(isinstance(slug, str) for slug in value):
                raise serializers.ValidationError('"all" or a non-empty list of tenant slugs.')
            return value

        class Meta:
            ref_name = "RolloutCreateInput"

    class CreatedSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()

        class Meta:
            ref_name = "RolloutCreated"

    @extend_schema(responses=RolloutSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            {"items": RolloutSerializer(rollout_list()[:100], many=True).data, "next_cursor": None}
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            202: CreatedSerializer,
            (400, PROBLEM_CONTENT_TYPE): problem("Invalid input or unknown tenants, named in `errors`."),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rollout = do_start_rollout(actor=request.user, **data.validated_data)
        return Response(self.CreatedSerializer(rollout).data, status=status.HTTP_202_ACCEPTED)


class RolloutDetailApi(StaffAPIView):
    @extend_schema(responses={200: RolloutSerializer, (404, PROBLEM_CONTENT_TYPE): NOT_FOUND})
    def get(self, request: Request, rollout_id: int) -> Response:
        return Response(RolloutSerializer(get_object_or_404(Rollout, pk=rollout_id)).data)


class RolloutResumeApi(StaffAPIView):
    @extend_schema(
        request=None,
        responses={
            200: RolloutSerializer,
            (404, PROBLEM_CONTENT_TYPE): NOT_FOUND,
            (409, PROBLEM_CONTENT_TYPE): problem("Only a halted rollout resumes."),
        },
    )
    def post(self, request: Request, rollout_id: int) -> Response:
        rollout = do_resume_rollout(rollout=get_object_or_404(Rollout, pk=rollout_id))
        return Response(RolloutSerializer(rollout).data)


class RolloutCancelApi(StaffAPIView):
    @extend_schema(
        request=None,
        responses={
            200: RolloutSerializer,
            (404, PROBLEM_CONTENT_TYPE): NOT_FOUND,
            (409, PROBLEM_CONTENT_TYPE): problem("The rollout has already ended."),
        },
    )
    def post(self, request: Request, rollout_id: int) -> Response:
        rollout = do_cancel_rollout(rollout=get_object_or_404(Rollout, pk=rollout_id))
        return Response(RolloutSerializer(rollout).data)
