"""The audit API (``audit`` scope only): the history, its checkpoints, its cached verification, and
a CSV report bounded per call; plus the public JWKS that checkpoints are verified with.

Events are returned exactly as stored and hashed, personal data as erasable envelopes; what
those envelopes open to (or ``"[erased]"``) is served beside them, never inside an event: the
page's ``personal`` member (by seq) and the report's ``personal`` column. So erasing a buyer
changes no event and no hash, and a verifier recomputes every hash from the events alone.
"""

import json
from collections.abc import Iterator

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from resale.api.base import TenantAPIView
from resale.api.serializers import RequestSerializer, cursor_field
from resale.csv_stream import csv_lines
from resale.history.checkpoints import checkpoints_page, public_jwks
from resale.history.selectors import (
    HistoryFilter,
    dead_letters_page,
    event_as_dict,
    history_page,
    history_report_window,
)
from resale.history.tasks import history_verification_for_request, history_verify_enqueue
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
    required_scopes = {"GET": "audit", "HEAD": "audit", "OPTIONS": "audit", "POST": "audit"}


class AuditEventSerializer(serializers.Serializer):
    """An event exactly as hashed: ``hash`` is SHA-256 of the RFC 8785 text of every other member
    (chain version 2; see ``verify_history`` for version 1)."""

    seq = serializers.IntegerField()
    chain_version = serializers.IntegerField()
    event = serializers.ChoiceField(choices=["INSERT", "MODIFY", "REMOVE", "EXPIRE", "GAP"])
    entity_type = serializers.CharField()
    entity_id = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)
    actor = serializers.CharField()
    at = serializers.CharField()
    source = serializers.CharField()
    stream_sequence = serializers.CharField(allow_null=True)
    recorded_at = serializers.CharField(allow_null=True)
    hash = serializers.CharField()
    prev_hash = serializers.CharField()

    class Meta:
        ref_name = "AuditEvent"


class AuditEventsApi(AuditApi):
    class FilterSerializer(RequestSerializer):
        entity_type = serializers.CharField(required=False, max_length=32)
        entity_id = serializers.CharField(required=False, max_length=200, help_text="Requires entity_type.")
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        cursor = cursor_field()
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
        page = history_page(
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
        personal = personal_data_view(self.route.models).of_page(page.items)
        return Response(
            self.OutputSerializer(
                {"items": page.items, "next_cursor": page.next_cursor, "personal": personal}
            ).data
        )


class AuditVerifyApi(AuditApi):
    """The cached verification, brought forward over at most a bounded number of new events per
    call; the rest, and the periodic full re-verification, run as jobs."""

    class OutputSerializer(serializers.Serializer):
        class GapSerializer(serializers.Serializer):
            seq = serializers.IntegerField()
            at = serializers.CharField()
            entity_id = serializers.CharField(help_text="the table role and shard, or the lost record")
            detail = serializers.JSONField(help_text="what is known of the loss: reason, shard, range")

            class Meta:
                ref_name = "AuditGap"

        ok = serializers.BooleanField()
        events = serializers.IntegerField(help_text="events verified, from seq 1")
        first_bad_seq = serializers.IntegerField(allow_null=True)
        gaps = GapSerializer(many=True, help_text="the GAP events (at most 500 listed)")
        gaps_total = serializers.IntegerField()
        head_seq = serializers.IntegerField(help_text="the chain's last seq when verified")
        complete = serializers.BooleanField(help_text="false while a job verifies up to head_seq")
        verified_at = serializers.CharField(allow_null=True)
        full_verified_at = serializers.CharField(
            allow_null=True, help_text="when the whole chain was last re-verified from seq 1"
        )

        class Meta:
            ref_name = "AuditVerification"

    class QueuedSerializer(serializers.Serializer):
        queued = serializers.BooleanField(help_text="false: a full verification was already queued")

        class Meta:
            ref_name = "AuditVerificationQueued"

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        verification = history_verification_for_request(tenant_models=self.route.models)
        return Response(self.OutputSerializer(verification).data)

    @extend_schema(request=None, responses={202: QueuedSerializer})
    def post(self, request: Request) -> Response:
        """Starts a full re-verification from seq 1; GET shows its result once done."""
        queued = history_verify_enqueue(tenant_slug=self.route.slug, full=True)
        return Response(self.QueuedSerializer({"queued": queued}).data, status=status.HTTP_202_ACCEPTED)


class _AuditCursorPageApi(AuditApi):
    """A page of one of the history table's item kinds, continued by ``cursor``."""

    def cursor_page(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = self.page(
            tenant_models=self.route.models,
            cursor=params.validated_data.get("cursor"),
            limit=params.validated_data["limit"],
        )
        return Response(self.OutputSerializer(page).data)


class AuditCheckpointsApi(_AuditCursorPageApi):
    class FilterSerializer(RequestSerializer):
        cursor = cursor_field()
        limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)

        class Meta:
            ref_name = "AuditCheckpointsFilter"

    class OutputSerializer(serializers.Serializer):
        class CheckpointSerializer(serializers.Serializer):
            seq = serializers.IntegerField()
            hash = serializers.CharField()
            signed_at = serializers.CharField()
            jws = serializers.CharField(help_text='compact JWS, EdDSA; payload {"tenant","seq","hash","iat"}')

            class Meta:
                ref_name = "AuditCheckpoint"

        items = CheckpointSerializer(many=True)
        next_cursor = serializers.CharField(allow_null=True)

        class Meta:
            ref_name = "AuditCheckpointsPage"

    page = staticmethod(checkpoints_page)

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        return self.cursor_page(request)


class AuditDeadLettersApi(_AuditCursorPageApi):
    """Stream records the history could not apply (each also a GAP event of the same seq), by their keys."""

    class FilterSerializer(RequestSerializer):
        cursor = cursor_field()
        limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)

        class Meta:
            ref_name = "AuditDeadLettersFilter"

    class OutputSerializer(serializers.Serializer):
        class DeadLetterSerializer(serializers.Serializer):
            seq = serializers.IntegerField(help_text="the seq of the GAP event recording the loss")
            table = serializers.CharField()
            event_id = serializers.CharField()
            error = serializers.CharField()
            recorded_at = serializers.CharField()
            record = serializers.JSONField(allow_null=True, help_text="the record's keys, never images")

            class Meta:
                ref_name = "AuditDeadLetter"

        items = DeadLetterSerializer(many=True)
        next_cursor = serializers.CharField(allow_null=True)

        class Meta:
            ref_name = "AuditDeadLettersPage"

    page = staticmethod(dead_letters_page)

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        return self.cursor_page(request)


class JwksApi(APIView):
    """The public keys that sign the history's checkpoints, by ``kid`` (no authentication)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        keys = serializers.ListField(child=serializers.DictField(), help_text="JWKs: OKP, Ed25519, kid")

        class Meta:
            ref_name = "Jwks"

    @extend_schema(responses=OutputSerializer, auth=[])
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(public_jwks()).data)


def _csv_rows(events, personal_data: PersonalDataView) -> Iterator[list]:
    for item in events:
        event = event_as_dict(item)
        personal = personal_data.of(event)
        event["personal"] = json.dumps(personal, sort_keys=True) if personal is not None else ""
        event["old"] = json.dumps(event["old"], sort_keys=True) if event["old"] is not None else ""
        event["new"] = json.dumps(event["new"], sort_keys=True) if event["new"] is not None else ""
        yield [event[column] for column in CSV_COLUMNS]


class CsvContentNegotiation(BaseContentNegotiation):
    """The report is CSV whatever the Accept header says; errors stay problem+json."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AuditReportCsvApi(AuditApi):
    """The history as CSV, bounded per call: one call reads at most ``limit`` events of the chain
    (seq after ``cursor``), so it streams at most that many rows; when the chain goes on the
    response names the next call in ``X-Next-Cursor`` and a ``Link`` header (``rel="next"``)."""

    content_negotiation_class = CsvContentNegotiation

    class FilterSerializer(RequestSerializer):
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        cursor = cursor_field(help_text="X-Next-Cursor of the previous call")
        limit = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=settings.AUDIT_REPORT_MAX_ROWS,
            default=settings.AUDIT_REPORT_MAX_ROWS,
            help_text="events of the chain read by this call (the rows are those of them in since/until)",
        )

        class Meta:
            ref_name = "AuditReportFilter"

    @extend_schema(
        parameters=[FilterSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                description="at most `limit` events, oldest first; X-Next-Cursor when the chain goes on"
            )
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        events, next_cursor = history_report_window(
            tenant_models=self.route.models,
            history_filter=HistoryFilter(since=data.get("since"), until=data.get("until")),
            cursor=data.get("cursor"),
            limit=data["limit"],
        )
        personal_data = personal_data_view(self.route.models)
        response = StreamingHttpResponse(
            csv_lines(CSV_COLUMNS, _csv_rows(events, personal_data)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-report.csv"'
        if next_cursor is not None:
            query = request.query_params.copy()
            query["cursor"] = next_cursor
            response["X-Next-Cursor"] = next_cursor
            response["Link"] = f'<{request.path}?{query.urlencode()}>; rel="next"'
        return response
