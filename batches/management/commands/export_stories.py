from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from batches.exporting import FORMATS, stories_export

from ._helpers import get_batch


class Command(BaseCommand):
    help = (
        "Export a batch's stories as CSV or JSON Lines, to a file or standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("batch", help="Batch id or name.")
        parser.add_argument(
            "--format", choices=FORMATS, default="csv", dest="file_format"
        )
        parser.add_argument("--output", "-o", help="File to write (default: stdout).")
        parser.add_argument(
            "--completed-only",
            action="store_true",
            help="Leave out unfinished profiles.",
        )

    def handle(self, *args, batch, file_format, output, completed_only, **options):
        batch = get_batch(batch)
        chunks = stories_export(
            batch, file_format=file_format, only_completed=completed_only
        )
        if not output:
            out = self.stdout._out
            for chunk in chunks:
                out.write(chunk)
            return
        path = Path(output)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="") as file:
                for chunk in chunks:
                    file.write(chunk)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from error
        self.stderr.write(f"Wrote the stories of batch {batch.pk} to {path}.")
