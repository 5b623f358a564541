"""
What the API reads and writes. Input serializers check what a client sends
and name the field at fault; output serializers say what each answer holds,
which is also what the OpenAPI schema publishes.
"""

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from batches.exporting import FORMATS as EXPORT_FORMATS
from batches.generators import generator_problem
from batches.generators.rendering import validate_story_template
from batches.importing import parse_profile_file, parse_profile_records
from batches.models import Batch, BatchEvent, Profile, ProfileAttempt
from batches.querysets import Progress
from batches.services import ResetScope
from batches.validators import validate_callback_url

# Only these generator options may be set or shown through the API. The
# language model's address and key are server settings: a client must never
# be able to point a batch at another server or read a key back.
GENERATOR_OPTION_KEYS = ("model", "temperature")
FILE_FORMATS = ("auto", "csv", "jsonl")


def public_options(options):
    """The generator options a client may see."""
    if not isinstance(options, dict):
        return {}
    return {key: options[key] for key in GENERATOR_OPTION_KEYS if key in options}


# -- Progress ------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    """A batch's counts. The batch must come from
    ``Batch.objects.with_progress()``, which annotates them."""

    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    processing = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    successful = serializers.IntegerField(help_text="Completed with a story.")
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    percent = serializers.FloatField(help_text="Share of profiles done, 0 to 100.")

    def to_representation(self, batch):
        return super().to_representation(Progress.of(batch))


class BatchProgressSerializer(serializers.Serializer):
    """The progress endpoint's answer, and the answer to every action. The
    batch must come from ``Batch.objects.with_progress()``."""

    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=Batch.State.choices)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    seconds_left = serializers.SerializerMethodField(
        help_text="Estimated from the rate so far; null while no profile is done "
        "and when the batch is not running."
    )
    progress = ProgressSerializer(source="*")

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_seconds_left(self, batch):
        return seconds_left(batch, Progress.of(batch))


def seconds_left(batch, progress, now=None):
    """Time left at the rate the batch has kept since it started."""
    if batch.state != Batch.State.RUNNING or not batch.started_at or not progress.done:
        return None
    elapsed = ((now or timezone.now()) - batch.started_at).total_seconds()
    if elapsed <= 0:
        return None
    rate = progress.done / elapsed
    return round((progress.total - progress.done) / rate, 1)


class ResetResultSerializer(BatchProgressSerializer):
    """The batch's progress after a reset or retry, with how many profiles
    were reset (given as ``context["reset"]``)."""

    reset = serializers.SerializerMethodField(help_text="How many profiles were reset.")

    def get_reset(self, batch) -> int:
        return self.context["reset"]


class ManyResetResultSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    reset = serializers.IntegerField(
        allow_null=True,
        help_text="Profiles reset; null when the batch's state allows no reset "
        "(a draft or cancelled batch).",
    )


class ManyResetAnswerSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Profiles reset over all batches.")
    results = ManyResetResultSerializer(many=True)


# -- Batches -------------------------------------------------------------------


class GeneratorOptionsSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=200, required=False)
    temperature = serializers.FloatField(min_value=0, max_value=2, required=False)

    def validate_temperature(self, value):
        # float(True) is 1.0: refuse booleans rather than read them as numbers.
        if isinstance(self.initial_data.get("temperature"), bool):
            raise serializers.ValidationError("A valid number is required.")
        return value


@extend_schema_field(GeneratorOptionsSerializer)
class GeneratorOptionsField(serializers.Field):
    """Generator options as an object, or as JSON text (as a multipart form
    has to send them). Unknown keys are refused, not dropped, so that a
    client learns its option was not taken."""

    default_error_messages = {
        "not_json": "Not valid JSON.",
        "not_object": "Expected an object with the keys model and temperature.",
    }

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                self.fail("not_json")
        if not isinstance(data, dict):
            self.fail("not_object")

        unknown = sorted(str(key) for key in data if key not in GENERATOR_OPTION_KEYS)
        if unknown:
            allowed = ", ".join(GENERATOR_OPTION_KEYS)
            raise serializers.ValidationError(
                {
                    key: [f"Unknown option; the options are: {allowed}."]
                    for key in unknown
                }
            )
        options = GeneratorOptionsSerializer(data=data)
        options.is_valid(raise_exception=True)
        return dict(options.validated_data)

    def to_representation(self, value):
        return public_options(value)


class BatchSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    options = GeneratorOptionsField()
    # Text, not a URL field: the schema must allow the empty string that
    # a batch without a callback holds.
    callback_url = serializers.CharField(
        read_only=True,
        help_text="Receives one signed POST when the batch finishes; empty "
        "when none is set.",
    )
    progress = ProgressSerializer(source="*", read_only=True)

    class Meta:
        model = Batch
        fields = [
            "id",
            "name",
            "state",
            "generator",
            "template",
            "options",
            "max_attempts",
            "callback_url",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "progress",
        ]
        read_only_fields = fields


class BatchCreateSerializer(serializers.Serializer):
    """A new draft batch: its settings, and its profiles as an uploaded
    file or as a list of objects in a JSON body, never both."""

    name = serializers.CharField(max_length=Batch._meta.get_field("name").max_length)
    template = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20_000
    )
    generator = serializers.ChoiceField(
        choices=Batch.Generator.choices, default=Batch.Generator.TEMPLATE
    )
    options = GeneratorOptionsField(required=False, default=dict)
    max_attempts = serializers.IntegerField(min_value=1, max_value=20, default=3)
    callback_url = serializers.URLField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        validators=[validate_callback_url],
    )
    file = serializers.FileField(
        required=False,
        help_text="CSV (comma, semicolon or tab separated, with a header row) or "
        "JSON Lines, UTF-8.",
    )
    format = serializers.ChoiceField(choices=FILE_FORMATS, default="auto")
    profiles = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        allow_empty=False,
        help_text="The profiles as objects, instead of a file.",
    )
    id_column = serializers.CharField(
        required=False, max_length=200, help_text="Default: external_id, or id."
    )
    name_column = serializers.CharField(
        required=False,
        max_length=500,
        help_text='Columns that make the name, e.g. "full_name,first_name+last_name".',
    )

    def validate_generator(self, value):
        problem = generator_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_template(self, value):
        try:
            validate_story_template(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return value

    def validate(self, data):
        if ("file" in data) == ("profiles" in data):
            raise serializers.ValidationError(
                "Send the profiles either as a file or as a list, one of the two."
            )
        return data

    @property
    def source_field(self):
        """The field that holds the profiles: where import errors belong."""
        return "file" if "file" in self.validated_data else "profiles"

    def batch_settings(self):
        data = self.validated_data
        return {
            key: data[key]
            for key in (
                "name",
                "template",
                "generator",
                "options",
                "max_attempts",
                "callback_url",
            )
        }

    def parsed_profiles(self, limits):
        """The profiles, checked one at a time as the import reads them."""
        data = self.validated_data
        columns = {
            "id_column": data.get("id_column"),
            "name_column": data.get("name_column"),
        }
        if "file" not in data:
            return parse_profile_records(data["profiles"], limits=limits, **columns)

        upload = data["file"]
        return parse_profile_file(
            upload.open("rb"),
            filename=upload.name,
            file_format=data["format"],
            limits=limits,
            **columns,
        )

    def rejection(self, error):
        """An ImportRejected as a ValidationError naming the field and line."""
        field = error.field if error.field in self.fields else self.source_field
        if error.line:
            where = "line" if self.source_field == "file" else "profile"
            message = f"{where} {error.line}: {error.message}"
        else:
            message = error.message
        return serializers.ValidationError({field: [message]})


# -- Actions -------------------------------------------------------------------


class ResetSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        choices=ResetScope.choices,
        default=ResetScope.FAILED,
        help_text='"failed": failed profiles and claims whose lease ran out; '
        '"all": every profile.',
    )
    force = serializers.BooleanField(
        default=False,
        help_text="Also reset profiles under a live claim; their workers then "
        "write nothing.",
    )


class ManyResetSerializer(ResetSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        allow_empty=False,
        max_length=1000,
        help_text="The batches to reset. Left out: every running or finished "
        "batch with failed or stuck profiles.",
    )

    def validate_ids(self, ids):
        known = set(Batch.objects.filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [pk for pk in dict.fromkeys(ids) if pk not in known]
        if unknown:
            raise serializers.ValidationError(
                f"No batch with the id {', '.join(map(str, unknown))}."
            )
        return list(dict.fromkeys(ids))


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=EXPORT_FORMATS, default="csv")
    completed = serializers.BooleanField(
        default=False, help_text="Only the profiles that were completed."
    )


# -- Profiles and events -----------------------------------------------------------


class ProfileListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Profile
        fields = [
            "id",
            "external_id",
            "name",
            "status",
            "has_story",
            "attempts",
            "last_error",
            "updated_at",
        ]
        read_only_fields = fields


class ProfileAttemptSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = ProfileAttempt
        fields = [
            "number",
            "worker_id",
            "started_at",
            "finished_at",
            "duration_seconds",
            "outcome",
            "error",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, attempt) -> float:
        return attempt.duration.total_seconds()


class ProfileDetailSerializer(serializers.ModelSerializer):
    attempt_log = ProfileAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Profile
        fields = [
            "id",
            "batch",
            "external_id",
            "name",
            "fields",
            "status",
            "story",
            "has_story",
            "attempts",
            "last_error",
            "prompt_tokens",
            "completion_tokens",
            "created_at",
            "updated_at",
            "attempt_log",
        ]
        read_only_fields = fields


class BatchEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = BatchEvent
        fields = ["id", "action", "source", "actor", "details", "created_at"]
        read_only_fields = fields
