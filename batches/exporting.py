"""Streaming export of a batch's stories as CSV or JSON Lines."""

import csv
import io
import json

from batches.models import Profile

EXPORT_COLUMNS = ("external_id", "name", "status", "story", "last_error", "attempts")
FORMATS = ("csv", "jsonl")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
# A spreadsheet treats a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Keep a cell from running as a formula: prefix a quote, which
    spreadsheets hide, and keep every character of the value."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _rows(batch, only_completed):
    profiles = Profile.objects.filter(batch=batch)
    if only_completed:
        profiles = profiles.completed()
    return (
        profiles.order_by("id").values_list(*EXPORT_COLUMNS).iterator(chunk_size=2000)
    )


def stories_export(batch, *, file_format="csv", only_completed=False):
    """Yield the export as text, a few rows at a time."""
    if file_format not in FORMATS:
        raise ValueError(f"Unknown export format {file_format!r}.")
    rows = _rows(batch, only_completed)
    if file_format == "jsonl":
        for row in rows:
            yield (
                json.dumps(
                    dict(zip(EXPORT_COLUMNS, row, strict=True)), ensure_ascii=False
                )
                + "\n"
            )
        return

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow([spreadsheet_safe(value) for value in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
