from django.core.management.base import BaseCommand, CommandError

from batches.exceptions import StateConflict
from batches.models import BatchEvent
from batches.services import ResetScope, batch_reset, batches_needing_reset

from ._helpers import get_batch


class Command(BaseCommand):
    help = (
        "Put failed profiles, and profiles whose worker's lease ran out, back to "
        "pending and enqueue them again. Safe while workers run."
    )

    def add_arguments(self, parser):
        parser.add_argument("batches", nargs="*", help="Batch ids or names.")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="every_batch",
            help="Every batch that has failed or stuck profiles.",
        )
        parser.add_argument(
            "--scope",
            choices=ResetScope.choices,
            default=ResetScope.FAILED,
            help="failed: failed and stuck profiles; all: every profile.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Also take back profiles under a live claim.",
        )

    def handle(self, *args, batches, every_batch, scope, force, **options):
        if bool(batches) == every_batch:
            raise CommandError("Name the batches to reset, or pass --all.")
        targets = (
            list(batches_needing_reset())
            if every_batch
            else [get_batch(b) for b in batches]
        )
        if not targets:
            self.stdout.write("No batch has failed or stuck profiles.")
        for batch in targets:
            try:
                count = batch_reset(
                    batch=batch,
                    source=BatchEvent.Source.COMMAND,
                    scope=scope,
                    force=force,
                )
            except StateConflict as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"Batch {batch.pk} {batch.name!r}: reset {count} profiles."
            )
