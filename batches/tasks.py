"""
Background tasks. A task only says where to look; the profile rows say what
is done, so a task that runs twice, late, or never is harmless: the sweep
notices work that no task is coming for and enqueues it again.
"""

import logging

from django.db import transaction
from django.tasks import TaskResultStatus, task

from batches.conf import conf

logger = logging.getLogger(__name__)


@task(takes_context=True)
def process_batch(context, batch_id):
    from batches.processing import (
        StopFlag,
        batch_process,
        default_worker_id,
        stop_on_signals,
    )

    worker_ids = context.task_result.worker_ids
    worker_id = f"{default_worker_id()}/{worker_ids[-1][:8]}" if worker_ids else None
    with stop_on_signals(StopFlag()) as stop:
        report = batch_process(batch_id=batch_id, worker_id=worker_id, stop=stop)
    ensure_sweep_scheduled()
    return {
        "claimed": report.claimed,
        "completed": report.completed,
        "failed": report.failed,
        "retrying": report.retrying,
        "discarded": report.discarded,
        "finished_batch": report.finished_batch,
    }


@task()
def sweep_batches():
    from batches.sweep import batches_sweep

    report = batches_sweep()
    ensure_sweep_scheduled(after_sweep=True)
    return report.as_dict()


@task()
def deliver_batch_webhook(batch_id, attempt):
    from batches.webhooks import webhook_deliver

    webhook_deliver(batch_id=batch_id, attempt=attempt)


def enqueue_batch_work(batch_id, *, count=1, run_after=None):
    """Enqueue ``count`` tasks for the batch, now or at ``run_after``."""
    runner = process_batch.using(run_after=run_after) if run_after else process_batch
    for _ in range(count):
        runner.enqueue(batch_id=batch_id)


def has_waiting_task(batch_id):
    """Whether a process_batch task for the batch is waiting to run."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=process_batch.module_path,
        status=TaskResultStatus.READY,
        args_kwargs__kwargs__batch_id=batch_id,
    ).exists()


def enqueue_batch_work_on_commit(batch_id, *, count):
    """Enqueue once the caller's transaction commits: a worker must never
    look for rows it cannot see yet."""
    transaction.on_commit(lambda: enqueue_batch_work(batch_id, count=count))


def ensure_sweep_scheduled(*, after_sweep=False):
    """Keep one sweep waiting while any batch runs; workers thereby sweep
    by themselves, with no scheduler to set up."""
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from batches.models import Batch

    if not Batch.objects.running().exists():
        return
    waiting = DBTaskResult.objects.filter(
        task_path=sweep_batches.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return
    run_after = timezone.now() + timedelta(seconds=conf.SWEEP_SECONDS)
    sweep_batches.using(run_after=run_after).enqueue()
    logger.debug("sweep scheduled run_after=%s after_sweep=%s", run_after, after_sweep)
