"""
The worker side: claiming profiles, writing their outcome, and finishing
batches. Every step is settled by the database, so that any number of
workers on any number of machines can share one batch:

- a claim is one conditional UPDATE that hands the profile a fresh token and
  a lease; a worker that updates nothing lost the race and moves on;
- a story is generated outside any transaction and written by an UPDATE that
  matches the token, so a worker whose claim expired, was reset or was taken
  over writes nothing;
- a batch is finished by whoever finds it done while holding its row lock.
"""

import logging
import os
import random
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from batches.conf import conf
from batches.db import write_transaction
from batches.generators import GenerationError, ProfileData, generator_for
from batches.models import Batch, BatchEvent, Profile, ProfileAttempt

logger = logging.getLogger(__name__)

Status = Profile.Status


def default_worker_id():
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass(frozen=True)
class Claim:
    profile_id: int
    token: str
    attempt: int
    worker_id: str
    started_at: object
    profile: ProfileData


def claimable_conditions(now):
    """Pending and due, or processing under a lease that ran out with
    attempts to spare."""
    ready = Q(status=Status.PENDING) & (
        Q(available_at__isnull=True) | Q(available_at__lte=now)
    )
    expired = Q(
        status=Status.PROCESSING,
        lease_expires_at__lt=now,
        attempts__lt=F("batch__max_attempts"),
    )
    return ready, expired


CLAIM_COLUMNS = (
    "id",
    "external_id",
    "name",
    "fields",
    "attempts",
    "status",
    "claim_token",
)


def profiles_claim(*, batch_id, worker_id, limit=1):
    """Claim up to ``limit`` of the oldest claimable profiles of a running
    batch, under one token and one lease. Returns the claims, oldest first."""
    now = timezone.now()
    token = uuid.uuid4().hex
    ready, expired = claimable_conditions(now)
    in_running_batch = Profile.objects.filter(
        batch_id=batch_id, batch__state=Batch.State.RUNNING
    )

    with write_transaction():
        # PostgreSQL: lock the candidates and skip rows that other workers
        # have locked. SQLite: the IMMEDIATE transaction already serialises
        # writers.
        rows = []
        for condition in (ready, expired):
            if len(rows) < limit:
                rows += (
                    in_running_batch.filter(condition)
                    .order_by("id")
                    .select_for_update(skip_locked=True, of=("self",))
                    .values(*CLAIM_COLUMNS)[: limit - len(rows)]
                )
        if not rows:
            return []

        # Compare and set: a row changes only while it is still claimable,
        # so the claim is safe even where no row lock was taken.
        ids = [row["id"] for row in rows]
        claimed = (
            Profile.objects.filter(pk__in=ids)
            .filter(
                Q(status=Status.PENDING)
                | Q(status=Status.PROCESSING, lease_expires_at__lt=now)
            )
            .update(
                status=Status.PROCESSING,
                claim_token=token,
                claimed_by=worker_id,
                lease_expires_at=now + timedelta(seconds=conf.LEASE_SECONDS),
                attempts=F("attempts") + 1,
                updated_at=now,
            )
        )
        if claimed < len(rows):
            mine = set(
                Profile.objects.filter(pk__in=ids, claim_token=token).values_list(
                    "pk", flat=True
                )
            )
            rows = [row for row in rows if row["id"] in mine]

    logger.debug(
        "profiles claimed batch=%s count=%s worker=%s", batch_id, len(rows), worker_id
    )
    return [
        Claim(
            profile_id=row["id"],
            token=token,
            attempt=row["attempts"] + 1,
            worker_id=worker_id,
            started_at=now,
            profile=ProfileData(
                external_id=row["external_id"], name=row["name"], fields=row["fields"]
            ),
        )
        for row in rows
    ]


def profile_claim(*, batch_id, worker_id):
    """Claim the oldest claimable profile of a running batch, or None."""
    claims = profiles_claim(batch_id=batch_id, worker_id=worker_id, limit=1)
    return claims[0] if claims else None


def _held(claim):
    """The profile, only while this claim still holds it."""
    return Profile.objects.filter(
        pk=claim.profile_id, claim_token=claim.token, status=Status.PROCESSING
    )


def _released_fields(now):
    return {
        "claim_token": "",
        "lease_expires_at": None,
        "updated_at": now,
    }


def _attempt(claim, *, outcome, finished_at, error=""):
    return ProfileAttempt(
        profile_id=claim.profile_id,
        number=claim.attempt,
        worker_id=claim.worker_id,
        started_at=claim.started_at,
        finished_at=finished_at,
        outcome=outcome,
        error=error,
    )


def _log_attempt(claim, **outcome):
    _attempt(claim, **outcome).save()


def claim_complete(claim, story):
    """Write the story if the claim still holds; False means it was lost."""
    return claims_complete([(claim, story)]) == 1


def claims_complete(done):
    """Write the stories of several claims in one transaction. Returns how
    many were written; the others had lost their claim and are logged as
    discarded."""
    if not done:
        return 0
    now = timezone.now()
    token_of = {claim.profile_id: claim.token for claim, _ in done}
    with write_transaction():
        # Locked (PostgreSQL) or under the write lock (SQLite): the rows
        # still held stay held until this commits.
        held = {
            pk
            for pk, token in Profile.objects.filter(
                pk__in=token_of, status=Status.PROCESSING
            )
            .select_for_update()
            .values_list("pk", "claim_token")
            if token == token_of[pk]
        }
        written = [(claim, story) for claim, story in done if claim.profile_id in held]
        if written:
            _write_stories(written, now)
            ProfileAttempt.objects.bulk_create(
                _attempt(
                    claim, outcome=ProfileAttempt.Outcome.COMPLETED, finished_at=now
                )
                for claim, _ in written
            )
    for claim, _ in done:
        if claim.profile_id not in held:
            _note_discarded(claim, now)
    return len(written)


def _write_stories(written, now):
    """Mark each held profile completed with its story and release its
    claim: one UPDATE per row, sent together with executemany. The statement
    is written out here because, built by the ORM, the CASE that picks each
    row's story took longer to compile than the database took to run it
    (about 8 ms for 25 rows)."""
    connection = transaction.get_connection()
    name = connection.ops.quote_name
    field = Profile._meta.get_field
    shared = {
        "status": Status.COMPLETED,
        "last_error": "",
        "available_at": None,
        **_released_fields(now),
    }
    assignments = [
        f"{name(field(column).column)} = %s"
        for column in ("story", "prompt_tokens", "completion_tokens", *shared)
    ]
    sql = (
        f"UPDATE {name(Profile._meta.db_table)} SET {', '.join(assignments)} "
        f"WHERE {name(field('id').column)} = %s "
        f"AND {name(field('claim_token').column)} = %s"
    )
    shared_values = [
        field(column).get_db_prep_save(value, connection)
        for column, value in shared.items()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (
                    story.text,
                    story.prompt_tokens,
                    story.completion_tokens,
                    *shared_values,
                    claim.profile_id,
                    claim.token,
                )
                for claim, story in written
            ],
        )


def backoff_seconds(attempt, retry_after=None):
    """Exponential backoff with jitter, never sooner than the server asked."""
    ceiling = min(
        conf.BACKOFF_MAX_SECONDS, conf.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
    )
    # Half fixed, half random: retries of many profiles that failed together
    # spread out instead of arriving together again.
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, min(float(retry_after), conf.BACKOFF_MAX_SECONDS))
    return delay


def claim_fail(claim, error, *, max_attempts):
    """Record a failed attempt: back to pending with a backoff when the error
    may pass and attempts remain, otherwise failed for good."""
    now = timezone.now()
    retry = error.transient and claim.attempt < max_attempts
    if retry:
        message = (
            f"{error.message.rstrip('.')} "
            f"(attempt {claim.attempt} of {max_attempts}, will retry)"
        )
        delay = backoff_seconds(claim.attempt, error.retry_after)
        changes = {
            "status": Status.PENDING,
            "available_at": now + timedelta(seconds=delay),
            "claimed_by": "",
        }
        outcome = ProfileAttempt.Outcome.RETRYING
    else:
        message = error.message
        if error.transient:
            message = f"{message.rstrip('.')} (gave up after {claim.attempt} attempts)"
        changes = {"status": Status.FAILED, "available_at": None}
        outcome = ProfileAttempt.Outcome.FAILED

    with transaction.atomic():
        written = _held(claim).update(
            last_error=message, **changes, **_released_fields(now)
        )
        if written:
            _log_attempt(claim, outcome=outcome, finished_at=now, error=error.message)
    if not written:
        _note_discarded(claim, now)
    return bool(written)


def claim_release(claim):
    """Give the profile back untried (the worker is stopping)."""
    now = timezone.now()
    with transaction.atomic():
        released = _held(claim).update(
            status=Status.PENDING,
            attempts=F("attempts") - 1,
            claimed_by="",
            **_released_fields(now),
        )
        if released:
            _log_attempt(
                claim, outcome=ProfileAttempt.Outcome.RELEASED, finished_at=now
            )
    return bool(released)


def _note_discarded(claim, now):
    logger.info(
        "result discarded profile=%s worker=%s reason=claim-lost",
        claim.profile_id,
        claim.worker_id,
    )
    if Profile.objects.filter(pk=claim.profile_id).exists():
        _log_attempt(
            claim,
            outcome=ProfileAttempt.Outcome.DISCARDED,
            finished_at=now,
            error="The claim was reset or taken over before the result arrived.",
        )


def batch_finish_if_done(batch_id):
    """Finish the batch if nothing in it is left to do. True for the one
    caller that finished it; everyone else, at any moment, gets False."""
    now = timezone.now()
    with write_transaction():
        # Holding the batch row serialises this check with resets and with
        # other workers' checks; each then reads profiles committed before
        # it took the lock.
        batch = (
            Batch.objects.select_for_update()
            .filter(pk=batch_id, state=Batch.State.RUNNING)
            .first()
        )
        if batch is None:
            return False

        if Profile.objects.filter(batch_id=batch_id).unfinished().exists():
            return False

        finished = Batch.objects.filter(pk=batch_id, state=Batch.State.RUNNING).update(
            state=Batch.State.FINISHED, finished_at=now
        )
        if not finished:
            return False

        progress = Profile.objects.filter(batch_id=batch_id).progress()
        BatchEvent.objects.create(
            batch_id=batch_id,
            batch_name=batch.name,
            source=BatchEvent.Source.WORKER,
            action=BatchEvent.Action.FINISHED,
            details=progress.as_dict(),
        )
        transaction.on_commit(lambda: _announce_finished(batch_id))

    logger.info(
        "batch finished batch=%s completed=%s failed=%s",
        batch_id,
        progress.completed,
        progress.failed,
    )
    return True


def _announce_finished(batch_id):
    from batches.signals import batch_finished
    from batches.tasks import deliver_batch_webhook

    batch = Batch.objects.get(pk=batch_id)
    for receiver, response in batch_finished.send_robust(sender=Batch, batch=batch):
        if isinstance(response, Exception):
            logger.error(
                "batch_finished receiver failed batch=%s receiver=%s error=%r",
                batch_id,
                getattr(receiver, "__qualname__", receiver),
                response,
            )
    if batch.callback_url:
        deliver_batch_webhook.enqueue(batch_id=batch_id, attempt=1)


# -- The work loop -------------------------------------------------------------


class StopFlag:
    """Set when the process is asked to stop (SIGTERM, SIGINT)."""

    def __init__(self):
        self._event = threading.Event()

    def set(self):
        self._event.set()

    def __bool__(self):
        return self._event.is_set()


@contextmanager
def stop_on_signals(flag):
    """Set ``flag`` on SIGTERM or SIGINT, then pass the signal on to whatever
    handled it before (db_worker's own graceful shutdown)."""
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    previous = {}

    def handler(signum, frame):
        flag.set()
        earlier = previous.get(signum)
        if callable(earlier):
            earlier(signum, frame)

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, handler)
    try:
        yield flag
    finally:
        for signum, earlier in previous.items():
            signal.signal(signum, earlier)


class _InlineExecutor:
    """Runs each call at once, in this thread: concurrency 1 needs no pool."""

    def submit(self, function, *args):
        future = Future()
        try:
            future.set_result(function(*args))
        except BaseException as error:  # handed to the caller, as a pool would
            future.set_exception(error)
        return future

    def shutdown(self, wait=True):
        pass


@dataclass
class RunReport:
    claimed: int = 0
    completed: int = 0
    failed: int = 0
    retrying: int = 0
    discarded: int = 0
    released: int = 0
    finished_batch: bool = False
    handed_over: bool = False
    reasons: list = field(default_factory=list)


def _story_or_error(generator, profile):
    """(story, None) or (None, GenerationError): a generator that crashes
    fails its profile, never the worker."""
    try:
        return generator.generate(profile), None
    except GenerationError as error:
        return None, error
    except Exception as error:
        logger.exception("generator crashed external_id=%s", profile.external_id)
        return None, GenerationError(
            f"Generator error: {type(error).__name__}: {error}"
        )


def _record_failure(claim, error, *, max_attempts, report):
    will_retry = error.transient and claim.attempt < max_attempts
    if not claim_fail(claim, error, max_attempts=max_attempts):
        report.discarded += 1
    elif will_retry:
        report.retrying += 1
    else:
        report.failed += 1


# SQLite hands its write lock to whoever asks at the right moment, and a
# waiting process only asks again after a sleep of up to 100 ms: a worker
# that takes the lock again at once can starve every other worker for the
# whole batch. A pause this short after each write lets them in.
SQLITE_PAUSE_SECONDS = 0.001


def _let_other_writers_in():
    if transaction.get_connection().vendor == "sqlite":
        time.sleep(SQLITE_PAUSE_SECONDS)


def _release_all(claims, report):
    for claim in claims:
        if claim_release(claim):
            report.released += 1


def _work_in_rounds(generator, batch, *, worker_id, deadline, stop, report):
    """Claim several profiles at once, generate them one after the other and
    write their stories together: for generators that are fast and local,
    where the database round trips would otherwise cost more than the
    stories. Returns whether the batch ran out of claimable work."""
    while not stop and time.monotonic() < deadline:
        claims = profiles_claim(
            batch_id=batch.pk, worker_id=worker_id, limit=generator.claims_per_round
        )
        if not claims:
            return True
        report.claimed += len(claims)

        unrecorded = list(claims)
        done = []
        try:
            for claim in claims:
                story, error = _story_or_error(generator, claim.profile)
                if error is None:
                    done.append((claim, story))
                else:
                    _record_failure(
                        claim, error, max_attempts=batch.max_attempts, report=report
                    )
                    unrecorded.remove(claim)
        except BaseException:
            # The process is going down: give back what is held, so no one
            # waits out a lease.
            _release_all(unrecorded, report)
            raise

        written = claims_complete(done)
        report.completed += written
        report.discarded += len(done) - written
        _let_other_writers_in()
    return False


def _work_in_flight(generator, batch, *, worker_id, deadline, stop, report):
    """Keep ``generator.concurrency`` requests in flight, with as many claimed
    profiles queued behind them: a request that ends frees its thread for the
    next queued profile at once, while this thread writes the story and
    claims more. For generators that wait on a network. Returns whether the
    batch ran out of claimable work."""
    slots = max(1, int(generator.concurrency))
    if slots == 1:
        executor, held_at_most = _InlineExecutor(), 1
    else:
        executor, held_at_most = ThreadPoolExecutor(slots), 2 * slots
    held = {}
    stories = []
    out_of_work = False
    try:
        while True:
            free = held_at_most - len(held)
            claiming = (
                free and not out_of_work and not stop and time.monotonic() < deadline
            )
            claims = []
            if stories or claiming:
                # The stories that finished and the claims for the places
                # they free share one transaction: one commit, where two
                # would make each story wait twice on the database.
                with write_transaction():
                    written = claims_complete(stories)
                    if claiming:
                        claims = profiles_claim(
                            batch_id=batch.pk, worker_id=worker_id, limit=free
                        )
                report.completed += written
                report.discarded += len(stories) - written
                stories = []
                _let_other_writers_in()
            if claiming:
                out_of_work = len(claims) < free
                report.claimed += len(claims)
            for claim in claims:
                future = executor.submit(
                    _unless_stopping, stop, generator, claim.profile
                )
                held[future] = claim

            if not held:
                return out_of_work

            finished, _ = wait(list(held), return_when=FIRST_COMPLETED)
            unsent = []
            for future in finished:
                claim = held.pop(future)
                story, error = future.result()
                if error is not None:
                    _record_failure(
                        claim, error, max_attempts=batch.max_attempts, report=report
                    )
                elif story is None:
                    unsent.append(claim)
                else:
                    stories.append((claim, story))
            _release_all(unsent, report)
    except BaseException:
        # The process is going down (a second signal, an error in this
        # loop): give back what is held, so no one waits out a lease.
        for future in held:
            future.cancel()
        _release_all([*held.values(), *(claim for claim, _ in stories)], report)
        raise
    finally:
        executor.shutdown(wait=False)


def _unless_stopping(stop, generator, profile):
    """Generate, unless the worker began stopping while the profile waited
    in the queue: then (None, None), and the claim is given back."""
    if stop:
        return None, None
    return _story_or_error(generator, profile)


def batch_process(*, batch_id, worker_id=None, seconds=None, stop=None):
    """Work on one batch for up to ``seconds``, then hand over to a fresh
    task if work remains. Returns what was done."""
    worker_id = worker_id or default_worker_id()
    seconds = conf.TASK_SECONDS if seconds is None else seconds
    stop = stop if stop is not None else StopFlag()
    report = RunReport()

    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or batch.state != Batch.State.RUNNING:
        report.reasons.append("batch not running")
        return report

    try:
        generator = generator_for(batch)
    except Exception as error:
        logger.exception("generator could not be built batch=%s", batch_id)
        generator = _BrokenGenerator(f"{type(error).__name__}: {error}")

    work = (
        _work_in_rounds
        if getattr(generator, "claims_per_round", 1) > 1
        else _work_in_flight
    )
    try:
        out_of_work = work(
            generator,
            batch,
            worker_id=worker_id,
            deadline=time.monotonic() + seconds,
            stop=stop,
            report=report,
        )
    finally:
        generator.close()

    _after_run(batch_id, out_of_work=out_of_work, report=report)
    return report


def _after_run(batch_id, *, out_of_work, report):
    from batches.tasks import enqueue_batch_work, has_waiting_task

    if not out_of_work:
        # Time is up or the worker is stopping: a fresh task carries on,
        # on this worker or any other.
        enqueue_batch_work(batch_id, count=1)
        report.handed_over = True
        return

    waiting = (
        Profile.objects.filter(batch_id=batch_id)
        .pending()
        .aggregate(due=Min("available_at"))["due"]
    )
    if waiting is not None:
        # Only profiles waiting out a backoff remain: come back when the
        # first of them is due, unless another task already will.
        if not has_waiting_task(batch_id):
            enqueue_batch_work(batch_id, count=1, run_after=waiting)
            report.handed_over = True
        return

    report.finished_batch = batch_finish_if_done(batch_id)


class _BrokenGenerator:
    """Stands in for a generator that could not be built: each profile fails
    with the reason, so the batch ends instead of waiting forever."""

    concurrency = 1

    def __init__(self, reason):
        self.reason = reason

    def generate(self, profile):
        raise GenerationError(f"The batch's generator could not start: {self.reason}")

    def close(self):
        pass
