from batches.models import Batch, BatchEvent, Profile
from batches.services import batch_start
from tests.factories import make_batch


def test_started_batch_is_processed_by_a_real_worker(db, commit, run_worker):
    batch = make_batch(profiles=25, template="{{ name }} of {{ state }}.")
    with commit():
        batch_start(batch=batch, source=BatchEvent.Source.COMMAND)

    run_worker()

    batch.refresh_from_db()
    assert batch.state == Batch.State.FINISHED
    progress = Profile.objects.filter(batch=batch).progress()
    assert (progress.total, progress.completed, progress.successful) == (25, 25, 25)
    first = batch.profiles.order_by("id").first()
    assert first.story == "Member Number 1 of TX."
    assert first.attempts == 1
