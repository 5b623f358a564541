"""
The service layer: every change to a batch that a person asks for, whether
through the admin, the API or a command, goes through one function here, so
that the three front doors behave the same and leave the same audit trail.
"""

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from batches.conf import conf
from batches.db import write_transaction
from batches.exceptions import StateConflict
from batches.models import Batch, BatchEvent, Profile
from batches.processing import batch_finish_if_done
from batches.tasks import enqueue_batch_work_on_commit, ensure_sweep_scheduled

logger = logging.getLogger(__name__)

State = Batch.State
Status = Profile.Status


class ResetScope:
    FAILED = "failed"  # failed profiles, and claims whose lease ran out
    ALL = "all"  # every profile: generate every story again
    choices = (FAILED, ALL)


def event_record(*, batch, action, source, actor=None, **details):
    return BatchEvent.objects.create(
        batch=batch,
        batch_name=batch.name,
        action=action,
        source=source,
        actor=actor if actor is not None and actor.is_authenticated else None,
        details=details,
    )


def batch_progress(batch):
    """The batch's counts, from one aggregate query."""
    return Profile.objects.filter(batch=batch).progress()


def _locked(batch):
    return Batch.objects.select_for_update().get(pk=batch.pk)


def batch_start(*, batch, source, actor=None):
    """Draft to running, and enqueue its work once that is committed."""
    with write_transaction():
        batch = _locked(batch)
        if batch.state != State.DRAFT:
            raise StateConflict(
                f"Batch {batch.pk} is {batch.state}; only a draft batch can be started."
            )

        batch.state = State.RUNNING
        batch.started_at = timezone.now()
        batch.save(update_fields=["state", "started_at"])
        event_record(
            batch=batch, action=BatchEvent.Action.STARTED, source=source, actor=actor
        )
        enqueue_batch_work_on_commit(batch.pk, count=conf.TASKS_PER_BATCH)
        transaction.on_commit(ensure_sweep_scheduled)

    logger.info("batch started batch=%s source=%s", batch.pk, source)
    # A batch with no profiles is done as soon as it starts.
    batch_finish_if_done(batch.pk)
    batch.refresh_from_db()
    return batch


def _reset(*, batch, condition, action, source, actor, details):
    now = timezone.now()
    with write_transaction():
        batch = _locked(batch)
        if batch.state in (State.DRAFT, State.CANCELLED):
            raise StateConflict(
                f"Batch {batch.pk} is {batch.state}; only a running or finished "
                "batch can be reset."
            )

        count = (
            Profile.objects.filter(batch=batch)
            .filter(condition)
            .update(
                status=Status.PENDING,
                story="",
                attempts=0,
                last_error="",
                claim_token="",
                claimed_by="",
                lease_expires_at=None,
                available_at=None,
                prompt_tokens=0,
                completion_tokens=0,
                updated_at=now,
            )
        )
        if count and batch.state == State.FINISHED:
            batch.state = State.RUNNING
            batch.finished_at = None
            batch.save(update_fields=["state", "finished_at"])
        if count:
            enqueue_batch_work_on_commit(
                batch.pk, count=min(conf.TASKS_PER_BATCH, count)
            )
            transaction.on_commit(ensure_sweep_scheduled)
        event_record(
            batch=batch,
            action=action,
            source=source,
            actor=actor,
            profiles=count,
            **details,
        )

    logger.info(
        "batch reset batch=%s action=%s profiles=%s source=%s",
        batch.pk,
        action,
        count,
        source,
    )
    return count


def batch_reset(*, batch, source, actor=None, scope=ResetScope.FAILED, force=False):
    """Put failed and stuck profiles (or, with scope "all", every profile)
    back to pending and enqueue them again. Returns how many were reset.

    Idempotent, and safe while workers run: a profile under a live claim is
    left alone unless ``force``; a worker whose claim is reset writes
    nothing when it answers late.
    """
    if scope not in ResetScope.choices:
        raise ValueError(f"Unknown reset scope {scope!r}.")
    now = timezone.now()
    condition = Q(status=Status.FAILED) | Q(
        status=Status.PROCESSING, lease_expires_at__lt=now
    )
    if scope == ResetScope.ALL:
        condition |= Q(status__in=[Status.COMPLETED, Status.PENDING])
    if force:
        condition |= Q(status=Status.PROCESSING)
    return _reset(
        batch=batch,
        condition=condition,
        action=BatchEvent.Action.RESET,
        source=source,
        actor=actor,
        details={"scope": scope, "force": force},
    )


def batch_retry(*, batch, source, actor=None):
    """Give failed profiles a fresh set of attempts. Returns how many."""
    return _reset(
        batch=batch,
        condition=Q(status=Status.FAILED),
        action=BatchEvent.Action.RETRIED,
        source=source,
        actor=actor,
        details={},
    )


def batch_cancel(*, batch, source, actor=None):
    """Stop the batch: no pending profile starts from now on; profiles that
    are running may finish."""
    with write_transaction():
        batch = _locked(batch)
        if batch.state not in (State.DRAFT, State.RUNNING):
            raise StateConflict(
                f"Batch {batch.pk} is {batch.state}; only a draft or running batch "
                "can be cancelled."
            )

        batch.state = State.CANCELLED
        batch.finished_at = timezone.now()
        batch.save(update_fields=["state", "finished_at"])
        event_record(
            batch=batch, action=BatchEvent.Action.CANCELLED, source=source, actor=actor
        )

    logger.info("batch cancelled batch=%s source=%s", batch.pk, source)
    return batch


def batch_delete(*, batch, source, actor=None, action=BatchEvent.Action.DELETED):
    """Delete a batch that is not running, with all its profiles."""
    with write_transaction():
        batch = _locked(batch)
        if batch.state == State.RUNNING:
            raise StateConflict(
                f"Batch {batch.pk} is running; cancel it before deleting it."
            )

        total = Profile.objects.filter(batch=batch).count()
        event_record(
            batch=batch,
            action=action,
            source=source,
            actor=actor,
            batch_id=batch.pk,
            profiles=total,
        )
        batch.delete()

    logger.info("batch deleted batch=%s profiles=%s source=%s", batch.pk, total, source)
    return total


def batches_reset(*, batches, source, actor=None, scope=ResetScope.FAILED, force=False):
    """Reset many batches; returns {batch id: profiles reset}. Batches whose
    state does not allow a reset are reported with None."""
    results = {}
    for batch in batches:
        try:
            results[batch.pk] = batch_reset(
                batch=batch, source=source, actor=actor, scope=scope, force=force
            )
        except StateConflict:
            results[batch.pk] = None
    return results


def batches_needing_reset(now=None):
    """Running or finished batches that hold failed or stuck profiles."""
    now = now or timezone.now()
    troubled = Profile.objects.filter(
        Q(status=Status.FAILED) | Q(status=Status.PROCESSING, lease_expires_at__lt=now)
    )
    return Batch.objects.filter(
        state__in=[State.RUNNING, State.FINISHED],
        pk__in=troubled.values("batch_id"),
    )


def batches_prunable(*, older_than):
    """Finished and cancelled batches that ended more than ``older_than``
    (a timedelta) ago, annotated with their counts."""
    cutoff = timezone.now() - older_than
    return (
        Batch.objects.filter(
            state__in=[State.FINISHED, State.CANCELLED], finished_at__lt=cutoff
        )
        .with_progress()
        .order_by("finished_at", "pk")
    )


def batches_prune(*, older_than, source, actor=None, dry_run=False):
    """Delete old finished and cancelled batches. Returns [(id, name,
    profiles)] of what was (or, with ``dry_run``, would be) deleted; each
    deletion stays in the audit trail."""
    pruned = []
    for batch in batches_prunable(older_than=older_than):
        if not dry_run:
            batch_delete(
                batch=batch, source=source, actor=actor, action=BatchEvent.Action.PRUNED
            )
        pruned.append((batch.pk, batch.name, batch.total))
    return pruned
