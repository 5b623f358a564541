"""What the Storybatch commands share."""

from django.core.management.base import CommandError

from batches.models import Batch


def get_batch(reference):
    """A batch by id, or by exact name when that names exactly one."""
    if str(reference).isdigit():
        batch = Batch.objects.filter(pk=int(reference)).first()
    else:
        matches = list(Batch.objects.filter(name=reference)[:2])
        if len(matches) > 1:
            raise CommandError(f"Several batches are named {reference!r}; use the id.")
        batch = matches[0] if matches else None
    if batch is None:
        raise CommandError(f"No batch {reference!r}.")
    return batch
