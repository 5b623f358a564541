"""
QuerySets named after what they select. Progress is always counted by the
database: ``Batch.objects.with_progress()`` annotates any list of batches in
one grouped query, and ``Profile.objects.filter(batch=b).progress()`` counts
one batch with one aggregate.
"""

from dataclasses import dataclass

from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone

PROGRESS_FIELDS = (
    "total",
    "pending",
    "processing",
    "completed",
    "failed",
    "successful",
    "prompt_tokens",
    "completion_tokens",
)


def progress_aggregates(prefix=""):
    """The progress counts as aggregate expressions.

    ``prefix`` is the path from the queried model to Profile ("profiles__"
    from Batch, "" from Profile itself).
    """
    # Imported here because the models import this module.
    from batches.models import Profile

    # Rows are counted by their status, which is never null: the progress
    # index holds it, where it does not hold the key (on PostgreSQL), so the
    # counts need not visit the table.
    counted = f"{prefix}status"
    status = Profile.Status

    def count_where(**lookups):
        return Count(counted, filter=Q(**{prefix + k: v for k, v in lookups.items()}))

    return {
        "total": Count(counted),
        "pending": count_where(status=status.PENDING),
        "processing": count_where(status=status.PROCESSING),
        "completed": count_where(status=status.COMPLETED),
        "failed": count_where(status=status.FAILED),
        "successful": count_where(status=status.COMPLETED, has_story=True),
        "prompt_tokens": Sum(f"{prefix}prompt_tokens", default=0),
        "completion_tokens": Sum(f"{prefix}completion_tokens", default=0),
    }


@dataclass(frozen=True)
class Progress:
    total: int = 0
    pending: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0
    successful: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @classmethod
    def of(cls, source):
        """Progress from an aggregate() dict or an annotated batch."""
        if isinstance(source, dict):
            return cls(**{name: source[name] or 0 for name in PROGRESS_FIELDS})
        return cls(**{name: getattr(source, name) or 0 for name in PROGRESS_FIELDS})

    @property
    def done(self):
        return self.completed + self.failed

    @property
    def percent(self):
        """Share of profiles that reached an end, 0 to 100, one decimal."""
        if not self.total:
            return 0.0
        return round(100 * self.done / self.total, 1)

    @property
    def is_done(self):
        return self.done == self.total

    def as_dict(self):
        data = {name: getattr(self, name) for name in PROGRESS_FIELDS}
        data["percent"] = self.percent
        return data


class BatchQuerySet(models.QuerySet):
    def draft(self):
        return self.filter(state=self.model.State.DRAFT)

    def running(self):
        return self.filter(state=self.model.State.RUNNING)

    def finished(self):
        return self.filter(state=self.model.State.FINISHED)

    def with_progress(self):
        """Annotate each batch with its progress counts, in the same query."""
        annotated = self.annotate(**progress_aggregates("profiles__"))
        # Django leaves Meta.ordering out of grouped queries; keep it.
        if not annotated.query.order_by:
            annotated = annotated.order_by(*self.model._meta.ordering)
        return annotated

    def progress_of(self, page):
        """The batches of ``page`` (a page of a list), each with its progress
        counts, from one query that counts only their profiles.

        Annotating a whole list before paginating it would make the
        database group every profile of every batch to show one page; and
        joined to a page of batches, PostgreSQL still plans for every
        profile. Grouping the page's profiles by batch reads just them, from
        the progress index.
        """
        from batches.models import Profile

        batches = list(page)
        counts = {
            row["batch_id"]: row
            for row in Profile.objects.filter(batch_id__in=[b.pk for b in batches])
            .values("batch_id")
            .annotate(**progress_aggregates())
            .order_by()
        }
        for batch in batches:
            progress = counts.get(batch.pk, {})
            for name in PROGRESS_FIELDS:
                setattr(batch, name, progress.get(name, 0))
        return batches


class ProfileQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=self.model.Status.PENDING)

    def processing(self):
        return self.filter(status=self.model.Status.PROCESSING)

    def completed(self):
        return self.filter(status=self.model.Status.COMPLETED)

    def failed(self):
        return self.filter(status=self.model.Status.FAILED)

    def unfinished(self):
        return self.filter(
            status__in=[self.model.Status.PENDING, self.model.Status.PROCESSING]
        )

    def stuck(self, now=None):
        """Processing, but the worker's lease has run out."""
        now = now or timezone.now()
        return self.processing().filter(lease_expires_at__lt=now)

    def live_claims(self, now=None):
        now = now or timezone.now()
        return self.processing().filter(lease_expires_at__gte=now)

    def ready(self, now=None):
        """Pending and not waiting out a backoff."""
        now = now or timezone.now()
        return self.pending().filter(
            Q(available_at__isnull=True) | Q(available_at__lte=now)
        )

    def progress(self):
        """The progress counts of these profiles, in one aggregate query."""
        return Progress.of(self.aggregate(**progress_aggregates()))
