"""The operators' commands, through call_command."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from batches.models import Batch, Profile
from tests.factories import make_batch, make_profiles
from tests.workers import ROOT, database_url

pytestmark = pytest.mark.django_db

Status = Profile.Status


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_start_batch_starts_one_or_every_draft(commit):
    first, second = make_batch(profiles=1), make_batch(profiles=1)

    with commit():
        out, _ = run("start_batch", str(first.pk))
        more, _ = run("start_batch", "--all-drafts")

    assert f"Started batch {first.pk}" in out
    assert f"Started batch {second.pk}" in more
    assert set(Batch.objects.values_list("state", flat=True)) == {Batch.State.RUNNING}


def test_start_batch_refuses_a_batch_that_is_not_a_draft():
    batch = make_batch(state=Batch.State.FINISHED)

    with pytest.raises(CommandError, match="only a draft batch can be started"):
        run("start_batch", str(batch.pk))


def test_an_unknown_batch_is_named():
    with pytest.raises(CommandError, match="No batch '999'"):
        run("batch_status", "999")


@pytest.mark.parametrize("batches", [1, 20])
def test_batch_status_table_costs_one_query(batches, django_assert_num_queries):
    for _ in range(batches):
        make_batch(profiles=3, state=Batch.State.RUNNING)

    # SELECT batch.*, COUNT(...) FILTER (...) ... GROUP BY batch.id LIMIT 50
    with django_assert_num_queries(1):
        out, _ = run("batch_status")

    lines = out.strip().splitlines()
    assert lines[0].split() == [
        "id", "name", "state", "total", "pending", "processing", "completed",
        "failed", "successful", "done",
    ]  # fmt: skip
    assert len(lines) == batches + 1


def test_batch_status_detail_shows_the_counts():
    batch = make_batch(profiles=3, state=Batch.State.RUNNING)
    make_profiles(batch, 1, start=10, status=Status.COMPLETED)

    out, _ = run("batch_status", str(batch.pk))

    assert "total       4" in out
    assert "completed   1" in out
    assert "done        25.0%" in out


def test_reset_batches_resets_every_troubled_batch(commit):
    troubled = make_batch(profiles=2, state=Batch.State.FINISHED, status=Status.FAILED)
    make_batch(profiles=2, state=Batch.State.FINISHED, status=Status.COMPLETED)

    with commit():
        out, _ = run("reset_batches", "--all")

    assert out.strip() == f"Batch {troubled.pk} {troubled.name!r}: reset 2 profiles."
    assert Profile.objects.pending().count() == 2


def test_reset_batches_refuses_a_draft():
    batch = make_batch(profiles=1)

    with pytest.raises(CommandError, match="only a running or finished batch"):
        run("reset_batches", str(batch.pk))


def story_batch():
    batch = make_batch(state=Batch.State.FINISHED)
    make_profiles(batch, 1, status=Status.COMPLETED, story='Line one,\nline "two".')
    make_profiles(batch, 1, start=2, status=Status.COMPLETED, story="=HYPERLINK(1)")
    make_profiles(batch, 1, start=3, status=Status.FAILED, last_error="@boom")
    return batch


def test_export_csv_keeps_every_character_and_defuses_formulas(tmp_path):
    batch = story_batch()
    target = tmp_path / "out" / "stories.csv"

    _, err = run("export_stories", str(batch.pk), "--output", str(target))

    assert f"Wrote the stories of batch {batch.pk}" in err
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert [row["story"] for row in rows] == [
        'Line one,\nline "two".',
        "'=HYPERLINK(1)",
        "",
    ]
    assert rows[2]["last_error"] == "'@boom"


def test_export_json_lines_to_stdout_keeps_stories_as_they_are():
    batch = story_batch()

    out, _ = run(
        "export_stories", str(batch.pk), "--format", "jsonl", "--completed-only"
    )

    records = [json.loads(line) for line in out.splitlines()]
    assert [r["story"] for r in records] == ['Line one,\nline "two".', "=HYPERLINK(1)"]


@pytest.mark.django_db(transaction=True)
def test_a_command_error_exits_non_zero_from_the_shell(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,name\nA1,Ada\nA1,Ada again\n")

    result = subprocess.run(
        [sys.executable, "manage.py", "import_profiles", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url()},
    )

    assert result.returncode == 1
    assert "line 3: Duplicate external id 'A1' (also on line 2)" in result.stderr
    assert Batch.objects.count() == 0


def test_import_refuses_the_language_model_when_it_is_not_configured(
    tmp_path, storybatch_settings
):
    storybatch_settings(LLM_BASE_URL="", LLM_MODEL="")
    good = tmp_path / "people.csv"
    good.write_bytes(b"id,name\nA1,Ada\n")

    with pytest.raises(CommandError, match="--generator llm: No language model server"):
        run("import_profiles", str(good), "--generator", "llm")

    assert Batch.objects.count() == 0
