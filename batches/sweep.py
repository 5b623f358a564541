"""
The sweep: finds work that no task is coming for and enqueues it again.

Work can lose its task in several ways: the task table was pruned, a worker
died before it claimed anything, an enqueue failed after its transaction
committed. The profile rows still say what is left, so the sweep only has
to compare them with the tasks that are waiting. Workers schedule it by
themselves; ``manage.py sweep_batches`` runs it by hand or from cron.
"""

import logging
from dataclasses import dataclass, field

from django.db.models import F, Min
from django.utils import timezone

from batches.models import Batch, Profile
from batches.processing import batch_finish_if_done, claimable_conditions
from batches.tasks import enqueue_batch_work, has_waiting_task

logger = logging.getLogger(__name__)

LOST_ON_LAST_ATTEMPT = (
    "The worker processing this profile stopped responding (its lease ran out) "
    "on the last allowed attempt."
)


@dataclass
class SweepReport:
    failed_lost: int = 0
    released_cancelled: int = 0
    enqueued: list = field(default_factory=list)
    finished: list = field(default_factory=list)

    def as_dict(self):
        return {
            "failed_lost": self.failed_lost,
            "released_cancelled": self.released_cancelled,
            "enqueued": self.enqueued,
            "finished": self.finished,
        }


def batches_sweep(now=None):
    """One pass over the running batches; safe to run at any time, by any
    number of processes at once."""
    now = now or timezone.now()
    report = SweepReport()

    # A claim that expired on its last attempt will never be taken again.
    report.failed_lost = (
        Profile.objects.stuck(now)
        .filter(batch__state=Batch.State.RUNNING)
        .filter(attempts__gte=F("batch__max_attempts"))
        .update(
            status=Profile.Status.FAILED,
            last_error=LOST_ON_LAST_ATTEMPT,
            claim_token="",
            lease_expires_at=None,
            updated_at=now,
        )
    )

    # A cancelled batch starts nothing, so a claim of it that ran out is
    # only given back: the profile shows as pending, not processing forever.
    report.released_cancelled = (
        Profile.objects.stuck(now)
        .filter(batch__state=Batch.State.CANCELLED)
        .update(
            status=Profile.Status.PENDING,
            claim_token="",
            claimed_by="",
            lease_expires_at=None,
            updated_at=now,
        )
    )

    ready, expired = claimable_conditions(now)
    for batch_id in Batch.objects.running().values_list("pk", flat=True):
        profiles = Profile.objects.filter(batch_id=batch_id)
        if has_waiting_task(batch_id):
            continue
        if profiles.filter(ready | expired).exists():
            enqueue_batch_work(batch_id, count=1)
            report.enqueued.append(batch_id)
            continue
        next_due = profiles.pending().aggregate(due=Min("available_at"))["due"]
        if next_due is not None:
            enqueue_batch_work(batch_id, count=1, run_after=next_due)
            report.enqueued.append(batch_id)
            continue
        if batch_finish_if_done(batch_id):
            report.finished.append(batch_id)

    if report.failed_lost or report.enqueued or report.finished:
        logger.info(
            "sweep done failed_lost=%s enqueued=%s finished=%s",
            report.failed_lost,
            report.enqueued,
            report.finished,
        )
    return report
