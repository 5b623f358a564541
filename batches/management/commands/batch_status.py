import time

from django.core.management.base import BaseCommand
from tqdm import tqdm

from batches.models import Batch, Profile

from ._helpers import get_batch

COLUMNS = ("id", "name", "state", "total", "pending", "processing", "completed",
           "failed", "successful", "done")  # fmt: skip


class Command(BaseCommand):
    help = (
        "Show batches with their progress counts, or one batch in detail. "
        "--watch follows one batch with a progress bar until it ends."
    )

    def add_arguments(self, parser):
        parser.add_argument("batch", nargs="?", help="Batch id or name.")
        parser.add_argument("--watch", action="store_true")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--limit", type=int, default=50)

    def handle(self, *args, batch, watch, interval, limit, **options):
        if batch is None:
            self._table(limit)
            return
        batch = get_batch(batch)
        if watch:
            self._watch(batch, interval)
        self._detail(batch)

    def _table(self, limit):
        # One query: the batches with their counts annotated.
        batches = list(Batch.objects.with_progress().order_by("-pk")[:limit])
        if not batches:
            self.stdout.write("No batches.")
            return
        rows = [
            [
                str(b.pk), b.name[:40], b.state, str(b.total), str(b.pending),
                str(b.processing), str(b.completed), str(b.failed), str(b.successful),
                f"{_percent(b)}%",
            ]
            for b in batches
        ]  # fmt: skip
        widths = [
            max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)
        ]
        self.stdout.write(
            "  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))
        )
        for row in rows:
            self.stdout.write(
                "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))
            )

    def _detail(self, batch):
        batch.refresh_from_db()
        progress = Profile.objects.filter(batch=batch).progress()
        lines = [
            f"Batch {batch.pk}: {batch.name}",
            f"  state       {batch.state}",
            f"  generator   {batch.generator}",
            f"  created     {batch.created_at:%Y-%m-%d %H:%M:%S}",
            f"  started     {_when(batch.started_at)}",
            f"  finished    {_when(batch.finished_at)}",
            f"  total       {progress.total}",
            f"  pending     {progress.pending}",
            f"  processing  {progress.processing}",
            f"  completed   {progress.completed}",
            f"  failed      {progress.failed}",
            f"  successful  {progress.successful}",
            f"  done        {progress.percent}%",
        ]
        if batch.started_at and batch.finished_at:
            seconds = (batch.finished_at - batch.started_at).total_seconds()
            lines.append(f"  took        {seconds:.1f} s")
        self.stdout.write("\n".join(lines))

    def _watch(self, batch, interval):
        progress = Profile.objects.filter(batch=batch).progress()
        with tqdm(
            total=progress.total, unit="profile", desc=f"batch {batch.pk}",
            file=self.stderr._out,
        ) as bar:  # fmt: skip
            while True:
                progress = Profile.objects.filter(batch=batch).progress()
                bar.n = progress.done
                bar.set_postfix(failed=progress.failed, refresh=False)
                bar.refresh()
                state = (
                    Batch.objects.filter(pk=batch.pk)
                    .values_list("state", flat=True)
                    .first()
                )
                if state != Batch.State.RUNNING:
                    break
                time.sleep(interval)


def _percent(batch):
    done = batch.completed + batch.failed
    return round(100 * done / batch.total, 1) if batch.total else 0.0


def _when(moment):
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"
