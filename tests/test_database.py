"""How the project uses its database, SQLite in particular."""

import os
import subprocess
import sys

import pytest

from batches.db import write_transaction
from tests.factories import make_batch
from tests.workers import ROOT, database_url


@pytest.mark.django_db(transaction=True)
def test_a_process_can_start_while_a_long_write_transaction_is_open():
    # An import holds SQLite's write lock for as long as it runs; workers and
    # web processes that start meanwhile must not wait for it or fail.
    with write_transaction():
        make_batch(profiles=5)
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url()},
            capture_output=True,
            text=True,
            timeout=25,
        )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_write_transactions_commit_and_roll_back_like_atomic():
    from batches.models import Batch

    with write_transaction():
        make_batch(name="kept")
    with pytest.raises(RuntimeError), write_transaction():
        make_batch(name="dropped")
        raise RuntimeError

    assert list(Batch.objects.values_list("name", flat=True)) == ["kept"]


@pytest.mark.django_db(transaction=True)
def test_write_transactions_lock_at_once_even_on_a_fresh_connection():
    import threading

    from django.db import connection, connections

    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    def work():
        # A new thread has a connection of its own, not yet opened.
        try:
            with connection.execute_wrapper(record), write_transaction():
                make_batch(name="in a thread")
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()

    begins = [sql for sql in statements if sql.startswith("BEGIN")]
    expected = ["BEGIN IMMEDIATE"] if connection.vendor == "sqlite" else []
    assert begins == expected
