from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from batches.models import BatchEvent
from batches.services import batches_prune


class Command(BaseCommand):
    help = (
        "Delete finished and cancelled batches that ended more than --days ago, "
        "with their profiles. --dry-run only lists them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, required=True)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, days, dry_run, **options):
        if days < 0:
            raise CommandError("--days must be zero or more.")
        pruned = batches_prune(
            older_than=timedelta(days=days),
            source=BatchEvent.Source.COMMAND,
            dry_run=dry_run,
        )
        verb = "Would delete" if dry_run else "Deleted"
        for pk, name, profiles in pruned:
            self.stdout.write(f"{verb} batch {pk} {name!r} ({profiles} profiles).")
        total = sum(profiles for _, _, profiles in pruned)
        self.stdout.write(f"{verb} {len(pruned)} batches, {total} profiles.")
