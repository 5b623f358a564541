"""
The REST API's views. Each checks its input with a serializer, calls one
function of the service layer, and answers; the rules live in the services.
"""

from django.http import StreamingHttpResponse
from django.middleware.csrf import get_token
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from batches.api.exceptions import PayloadTooLarge
from batches.api.filters import BatchFilter, ProfileFilter
from batches.api.pagination import BatchPagination, ProfileCursorPagination
from batches.api.permissions import CanOperateBatches
from batches.api.schema import ERROR, ErrorsAutoSchema
from batches.api.serializers import (
    BatchCreateSerializer,
    BatchEventSerializer,
    BatchProgressSerializer,
    BatchSerializer,
    ExportQuerySerializer,
    ManyResetAnswerSerializer,
    ManyResetSerializer,
    ProfileDetailSerializer,
    ProfileListSerializer,
    ResetResultSerializer,
    ResetSerializer,
)
from batches.api.throttles import MutationRateThrottle
from batches.exceptions import ImportRejected
from batches.exporting import CONTENT_TYPES, stories_export
from batches.importing import Limits, batch_import
from batches.models import Batch, BatchEvent, Profile
from batches.services import (
    batch_cancel,
    batch_delete,
    batch_reset,
    batch_retry,
    batch_start,
    batches_needing_reset,
    batches_reset,
)

API = BatchEvent.Source.API
# A multipart upload carries the form's other fields and its boundaries
# beside the file: room for them when the body's size is checked up front.
FORM_ALLOWANCE_BYTES = 64 * 1024

CONFLICT = OpenApiResponse(ERROR, description="The batch's state does not allow it.")


def validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def refuse_oversized_body(request, limits):
    """Answer 413 from the declared length, before the body is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    allowance = (
        FORM_ALLOWANCE_BYTES if request.content_type.startswith("multipart/") else 0
    )
    if limits.max_bytes and length > limits.max_bytes + allowance:
        raise PayloadTooLarge(too_large_message(limits))


def too_large_message(limits):
    return (
        f"The upload is larger than {limits.max_bytes} bytes, the limit for one "
        "upload (STORYBATCH_MAX_UPLOAD_BYTES)."
    )


class IgnoreFormatParameter(BaseContentNegotiation):
    """Always the view's first renderer. The export's ``format`` parameter
    names the file to make; DRF would otherwise take it as the name of a
    renderer and answer 404 for "csv"."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema_view(
    list=extend_schema(
        summary="List batches with their progress", parameters=[BatchFilter]
    ),
    retrieve=extend_schema(summary="One batch with its progress"),
)
class BatchViewSet(viewsets.GenericViewSet):
    schema = ErrorsAutoSchema()
    serializer_class = BatchSerializer
    pagination_class = BatchPagination
    lookup_value_regex = "[0-9]+"
    operations = ("start", "reset", "retry", "cancel", "destroy", "reset_many")

    def get_permissions(self):
        if self.action in self.operations:
            return [IsAuthenticated(), CanOperateBatches()]
        return [IsAuthenticated()]

    def get_queryset(self):
        if self.action == "list":
            # list() counts the page's batches, once they are picked.
            return Batch.objects.select_related("created_by")
        if self.action == "retrieve":
            return Batch.objects.with_progress().select_related("created_by")
        if self.action == "progress":
            return Batch.objects.with_progress()
        return Batch.objects.all()

    def progress_answer(
        self, batch, serializer_class=BatchProgressSerializer, **context
    ):
        batch = Batch.objects.with_progress().get(pk=batch.pk)
        return Response(serializer_class(batch, context=context).data)

    def list(self, request):
        batches = BatchFilter.from_request(request).filter_queryset(self.get_queryset())
        page = self.paginate_queryset(batches)
        counted = Batch.objects.progress_of(page)
        return self.get_paginated_response(self.get_serializer(counted, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Create a draft batch from a file or a list of profiles",
        request={
            "multipart/form-data": BatchCreateSerializer,
            "application/json": BatchCreateSerializer,
        },
        examples=[
            OpenApiExample(
                "A list of profiles",
                request_only=True,
                media_type="application/json",
                value={
                    "name": "Senators",
                    "template": "{{ name }} represents {{ state|us_state }}.",
                    "profiles": [
                        {"id": "S001", "name": "Ada Lovelace", "state": "VT"},
                        {"id": "S002", "name": "Grace Hopper", "state": "NY"},
                    ],
                },
            )
        ],
        responses={
            201: BatchSerializer,
            400: OpenApiResponse(description="Bad input, named by field and line."),
            413: OpenApiResponse(ERROR, description="The upload is too large."),
        },
    )
    def create(self, request):
        limits = Limits.for_uploads()
        refuse_oversized_body(request, limits)
        serializer = BatchCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data.get("file")
        if upload is not None and limits.max_bytes and upload.size > limits.max_bytes:
            raise PayloadTooLarge(too_large_message(limits))

        try:
            batch, _count = batch_import(
                profiles=serializer.parsed_profiles(limits),
                source=API,
                actor=request.user,
                **serializer.batch_settings(),
            )
        except ImportRejected as error:
            raise serializer.rejection(error) from error

        batch = (
            Batch.objects.with_progress().select_related("created_by").get(pk=batch.pk)
        )
        return Response(self.get_serializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Delete a batch that is not running, with its profiles",
        responses={204: None, 409: CONFLICT},
    )
    def destroy(self, request, pk=None):
        batch_delete(batch=self.get_object(), source=API, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Start a draft batch",
        request=None,
        responses={200: BatchProgressSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        batch = batch_start(batch=self.get_object(), source=API, actor=request.user)
        return self.progress_answer(batch)

    @extend_schema(
        summary="Put failed and stuck (or all) profiles back to pending",
        # JSON is the documented body; a form still works, as everywhere.
        request={"application/json": ResetSerializer},
        responses={200: ResetResultSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def reset(self, request, pk=None):
        batch = self.get_object()
        options = validated(ResetSerializer, request.data)
        count = batch_reset(batch=batch, source=API, actor=request.user, **options)
        return self.progress_answer(batch, ResetResultSerializer, reset=count)

    @extend_schema(
        summary="Give failed profiles a fresh set of attempts",
        request=None,
        responses={200: ResetResultSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        batch = self.get_object()
        count = batch_retry(batch=batch, source=API, actor=request.user)
        return self.progress_answer(batch, ResetResultSerializer, reset=count)

    @extend_schema(
        summary="Cancel a draft or running batch",
        request=None,
        responses={200: BatchProgressSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        batch = batch_cancel(batch=self.get_object(), source=API, actor=request.user)
        return self.progress_answer(batch)

    @extend_schema(
        summary="Reset many batches at once",
        operation_id="batches_reset_many",
        request={"application/json": ManyResetSerializer},
        responses={200: ManyResetAnswerSerializer},
    )
    @action(detail=False, methods=["post"], url_path="reset", url_name="reset-many")
    def reset_many(self, request):
        options = validated(ManyResetSerializer, request.data)
        ids = options.pop("ids", None)
        batches = Batch.objects.filter(pk__in=ids) if ids else batches_needing_reset()
        results = batches_reset(
            batches=batches.order_by("pk"), source=API, actor=request.user, **options
        )
        return Response(
            {
                "total": sum(count or 0 for count in results.values()),
                "results": [
                    {"batch": pk, "reset": count} for pk, count in results.items()
                ],
            }
        )

    @extend_schema(
        summary="The batch's counts, state and an estimate of the time left",
        responses=BatchProgressSerializer,
    )
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        return Response(BatchProgressSerializer(self.get_object()).data)

    @extend_schema(
        summary="The batch's audit trail: who did what, when, and how",
        responses=BatchEventSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        events = self.get_object().events.select_related("actor")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(BatchEventSerializer(page, many=True).data)

    @extend_schema(
        summary="Download the stories as CSV or JSON Lines",
        parameters=[ExportQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/x-ndjson"): OpenApiTypes.STR,
        },
    )
    @action(
        detail=True, methods=["get"], content_negotiation_class=IgnoreFormatParameter
    )
    def export(self, request, pk=None):
        batch = self.get_object()
        query = validated(ExportQuerySerializer, request.query_params.dict())
        file_format = query["format"]
        response = StreamingHttpResponse(
            stories_export(
                batch, file_format=file_format, only_completed=query["completed"]
            ),
            content_type=CONTENT_TYPES[file_format],
        )
        response["Content-Disposition"] = (
            f'attachment; filename="batch-{batch.pk}-stories.{file_format}"'
        )
        return response


@extend_schema_view(
    list=extend_schema(
        summary="The batch's profiles, a page at a time", parameters=[ProfileFilter]
    ),
    retrieve=extend_schema(summary="One profile with its story and attempts"),
)
class ProfileViewSet(viewsets.ReadOnlyModelViewSet):
    schema = ErrorsAutoSchema()
    pagination_class = ProfileCursorPagination
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        profiles = Profile.objects.filter(batch_id=self.kwargs["batch_id"])
        if self.action == "retrieve":
            return profiles.prefetch_related("attempt_log")
        return profiles

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ProfileDetailSerializer
        return ProfileListSerializer

    def list(self, request, batch_id=None):
        # An unknown batch is a 404, not an empty list.
        if not Batch.objects.filter(pk=batch_id).exists():
            raise NotFound("No batch with this id.")
        profiles = ProfileFilter.from_request(request).filter_queryset(
            self.get_queryset()
        )
        page = self.paginate_queryset(profiles)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class TokenCreateView(ObtainAuthToken):
    """Exchange a username and password for the user's API token."""

    # The body holds the credentials; a session (and its CSRF check) has no
    # part in it.
    authentication_classes = []
    schema = ErrorsAutoSchema()
    throttle_classes = [MutationRateThrottle]

    @extend_schema(
        summary="Exchange a username and password for an API token",
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong username or password."),
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
def not_found(request, path):
    """Unknown paths under /api/ answer JSON, as the rest of the API does."""
    raise NotFound()


@extend_schema(
    summary="A CSRF token for a client that uses the session cookie",
    responses=inline_serializer("CsrfToken", {"csrf_token": serializers.CharField()}),
)
@api_view(["GET"])
@permission_classes([AllowAny])
def csrf_token(request):
    """Sets the CSRF cookie, and gives its token for the X-CSRFToken header:
    a page on another origin cannot read the cookie itself."""
    return Response({"csrf_token": get_token(request)})
