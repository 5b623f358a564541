from django.core.management.base import BaseCommand

from batches.sweep import batches_sweep


class Command(BaseCommand):
    help = (
        "Find running work that no task is coming for (lost tasks, dead "
        "workers) and enqueue it again. Workers also do this by themselves."
    )

    def handle(self, *args, **options):
        report = batches_sweep()
        self.stdout.write(
            f"Sweep: {report.failed_lost} lost profiles failed, "
            f"{len(report.enqueued)} batches re-enqueued {report.enqueued}, "
            f"{len(report.finished)} batches finished {report.finished}."
        )
