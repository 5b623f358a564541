"""Batches of profiles, their processing state, and the records kept of it."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from batches.querysets import BatchQuerySet, ProfileQuerySet
from batches.validators import validate_callback_url


class Batch(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        CANCELLED = "cancelled", "Cancelled"

    class Generator(models.TextChoices):
        TEMPLATE = "template", "Template"
        LLM = "llm", "Language model (OpenAI-compatible)"

    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State, default=State.DRAFT)
    generator = models.CharField(
        max_length=16, choices=Generator, default=Generator.TEMPLATE
    )
    template = models.TextField(
        blank=True,
        help_text="Django template over the profile's fields. Blank: the default.",
    )
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text='Generator options, for example {"model": "...", "temperature": 0.2}.',
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    callback_url = models.URLField(
        blank=True,
        validators=[validate_callback_url],
        help_text="Receives one signed POST when the batch finishes.",
    )

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"
        indexes = [models.Index(fields=["state"], name="batch_state_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_attempts__gte=1), name="batch_max_attempts_positive"
            ),
        ]
        permissions = [
            ("operate_batch", "Can start, reset, retry and cancel batches"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self):
        return self.state == self.State.RUNNING


class Profile(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    # The index on (batch, id) below serves the foreign key, so the field
    # needs no index of its own. The database cascades the delete, so that a
    # batch of a million profiles goes in one statement, loading none.
    batch = models.ForeignKey(
        Batch, on_delete=models.DB_CASCADE, related_name="profiles", db_index=False
    )
    external_id = models.CharField(max_length=255)
    name = models.CharField(max_length=500)
    fields = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    story = models.TextField(blank=True)
    has_story = models.GeneratedField(
        expression=~Q(story=""),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # A profile waiting out a backoff is not claimed before this time.
    available_at = models.DateTimeField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ProfileQuerySet.as_manager()

    class Meta:
        ordering = ["batch", "id"]
        indexes = [
            # Keyset pagination of a batch's profiles, and the foreign key.
            models.Index(fields=["batch", "id"], name="profile_batch_id_idx"),
            # Claims (oldest pending first) and lists filtered by status.
            models.Index(fields=["batch", "status", "id"], name="profile_claim_idx"),
            # Progress counts and token sums, answered from the index alone
            # (an index-only scan on PostgreSQL, a covering index on SQLite).
            models.Index(
                fields=[
                    "batch",
                    "status",
                    "has_story",
                    "prompt_tokens",
                    "completion_tokens",
                ],
                name="profile_progress_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "external_id"], name="profile_external_id_unique"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.external_id})"


class ProfileAttempt(models.Model):
    """One worker's try at one profile, kept so staff can see what happened."""

    class Outcome(models.TextChoices):
        COMPLETED = "completed", "Completed"
        RETRYING = "retrying", "Failed, will retry"
        FAILED = "failed", "Failed"
        DISCARDED = "discarded", "Discarded (claim lost)"
        RELEASED = "released", "Released (worker stopping)"

    profile = models.ForeignKey(
        Profile, on_delete=models.DB_CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    worker_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["profile", "number", "id"]

    def __str__(self):
        return f"attempt {self.number} of profile {self.profile_id}: {self.outcome}"

    @property
    def duration(self):
        return self.finished_at - self.started_at


class BatchEvent(models.Model):
    """The audit trail: who did what to a batch, when, and through which door."""

    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        COMMAND = "command", "Command"
        WORKER = "worker", "Worker"

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        STARTED = "started", "Started"
        RESET = "reset", "Reset"
        RETRIED = "retried", "Retried"
        CANCELLED = "cancelled", "Cancelled"
        DELETED = "deleted", "Deleted"
        FINISHED = "finished", "Finished"
        PRUNED = "pruned", "Pruned"

    # Kept when the batch is deleted, so that the deletion stays on record.
    batch = models.ForeignKey(
        Batch,
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        related_name="events",
    )
    batch_name = models.CharField(max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        related_name="+",
    )
    source = models.CharField(max_length=16, choices=Source)
    action = models.CharField(max_length=16, choices=Action)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["batch", "-created_at"], name="event_batch_idx")
        ]

    def __str__(self):
        return f"{self.action} {self.batch_name} via {self.source}"


class WebhookDelivery(models.Model):
    """One try at telling a batch's callback URL that the batch finished."""

    batch = models.ForeignKey(
        Batch, on_delete=models.DB_CASCADE, related_name="webhook_deliveries"
    )
    url = models.URLField()
    attempt = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    delivered = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["batch", "attempt"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"webhook {self.attempt} for batch {self.batch_id}"
