from django.core.management.base import BaseCommand, CommandError

from batches.exceptions import StateConflict
from batches.models import Batch, BatchEvent
from batches.services import batch_start

from ._helpers import get_batch


class Command(BaseCommand):
    help = "Start a draft batch (or every draft batch): its work goes to the workers."

    def add_arguments(self, parser):
        parser.add_argument("batch", nargs="?", help="Batch id or name.")
        parser.add_argument(
            "--all-drafts", action="store_true", help="Start every draft batch."
        )

    def handle(self, *args, batch, all_drafts, **options):
        if bool(batch) == all_drafts:
            raise CommandError("Name one batch, or pass --all-drafts.")
        batches = list(Batch.objects.draft()) if all_drafts else [get_batch(batch)]
        if all_drafts and not batches:
            self.stdout.write("No draft batches to start.")
        for target in batches:
            try:
                batch_start(batch=target, source=BatchEvent.Source.COMMAND)
            except StateConflict as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"Started batch {target.pk} {target.name!r}.")
