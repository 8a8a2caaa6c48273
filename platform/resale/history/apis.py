"""The audit API: the history, its verification, and a streamed CSV report (``audit`` scope only).

Events are returned exactly as stored and hashed, personal data as erasable envelopes; what
those envelopes open to (or ``"[erased]"``) is served beside them, never inside an event: the
page's ``personal`` member (by seq) and the report's ``personal`` column. So erasing a buyer
changes no event and no hash, and a verifier recomputes every hash from the events alone.
"""

import csv
import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from resale.api.base import TenantAPIView
from resale.api.serializers import RequestSerializer
from resale.history.errors import BadCursor
from resale.history.selectors import (
    BadHistoryCursor,
    HistoryFilter,
    event_as_dict,
    history_iter,
    history_page,
    history_verify,
)
from resale.privacy.selectors import PersonalDataView, personal_data_view

CSV_COLUMNS = (
    "seq",
    "event",
    "entity_type",
    "entity_id",
    "actor",
    "at",
    "old",
    "new",
    "hash",
    "prev_hash",
    "personal",
)


class AuditApi(TenantAPIView):
    required_scopes = {"GET": "audit", "HEAD": "audit", "OPTIONS": "audit"}


class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    event = serializers.ChoiceField(choices=["INSERT", "MODIFY", "REMOVE", "EXPIRE"])
    entity_type = serializers.CharField()
    entity_id = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)
    actor = serializers.CharField()
    at = serializers.CharField()
    hash = serializers.CharField()
    prev_hash = serializers.CharField()
    stream_sequence = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "AuditEvent"


class AuditEventsApi(AuditApi):
    class FilterSerializer(RequestSerializer):
        entity_type = serializers.CharField(required=False, max_length=32)
        entity_id = serializers.CharField(required=False, max_length=200)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        cursor = serializers.CharField(required=False)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)

        class Meta:
            ref_name = "AuditEventsFilter"

        def validate(self, attrs):
            if attrs.get("entity_id") and not attrs.get("entity_type"):
                raise serializers.ValidationError({"entity_type": ["Required with entity_id."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        items = AuditEventSerializer(many=True)
        next_cursor = serializers.CharField(allow_null=True)
        personal = serializers.DictField(
            child=serializers.DictField(child=serializers.DictField()),
            help_text="What the personal data envelopes of the page's events open to, by seq: "
            '{"<seq>": {"old"|"new": {attribute: value or "[erased]"}}}. Outside the events: not hashed.',
        )

        class Meta:
            ref_name = "AuditEventsPage"

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            items, next_cursor = history_page(
                tenant_models=self.route.models,
                history_filter=HistoryFilter(
                    entity_type=data.get("entity_type"),
                    entity_id=data.get("entity_id"),
                    since=data.get("since"),
                    until=data.get("until"),
                ),
                cursor=data.get("cursor"),
                limit=data["limit"],
            )
        except BadHistoryCursor as exc:
            raise BadCursor(str(exc), errors={"cursor": [str(exc)]}) from exc
        personal = personal_data_view(self.route.models).of_page(items)
        return Response(
            self.OutputSerializer({"items": items, "next_cursor": next_cursor, "personal": personal}).data
        )


class AuditVerifyApi(AuditApi):
    class OutputSerializer(serializers.Serializer):
        ok = serializers.BooleanField()
        events = serializers.IntegerField()
        first_bad_seq = serializers.IntegerField(allow_null=True)

        class Meta:
            ref_name = "AuditVerification"

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        verification = history_verify(tenant_models=self.route.models)
        return Response(self.OutputSerializer(verification).data)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(events, personal_data: PersonalDataView) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for item in events:
        event = event_as_dict(item)
        personal = personal_data.of(event)
        event["personal"] = json.dumps(personal, sort_keys=True) if personal is not None else ""
        event["old"] = json.dumps(event["old"], sort_keys=True) if event["old"] is not None else ""
        event["new"] = json.dumps(event["new"], sort_keys=True) if event["new"] is not None else ""
        yield writer.writerow([event[column] for column in CSV_COLUMNS])


class CsvContentNegotiation(BaseContentNegotiation):
    """The report is CSV whatever the Accept header says; errors stay problem+json."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AuditReportCsvApi(AuditApi):
    content_negotiation_class = CsvContentNegotiation

    class FilterSerializer(RequestSerializer):
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

        class Meta:
            ref_name = "AuditReportFilter"

    @extend_schema(
        parameters=[FilterSerializer],
        responses={(200, "text/csv"): OpenApiResponse(description="the history as CSV, oldest first")},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        events = history_iter(
            tenant_models=self.route.models,
            history_filter=HistoryFilter(
                since=params.validated_data.get("since"), until=params.validated_data.get("until")
            ),
        )
        personal_data = personal_data_view(self.route.models)
        response = StreamingHttpResponse(
            _csv_rows(events, personal_data), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-report.csv"'
        return response
