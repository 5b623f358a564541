"""Database helpers that smooth over the differences between backends."""

from contextlib import contextmanager

from django.db import transaction


@contextmanager
def write_transaction(using=None):
    """An atomic block for work that reads and then writes.

    On SQLite it begins IMMEDIATE, taking the write lock at once: a
    transaction that reads first and asks for the lock later can find that
    another writer got there in between, and SQLite then fails at once
    instead of waiting. Elsewhere it is a plain atomic block (PostgreSQL's
    row locks do that job).
    """
    connection = transaction.get_connection(using)
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic(using=using):
            yield
        return

    # Connect first: connecting reads the mode from the settings again.
    connection.ensure_connection()
    previous = connection.transaction_mode
    connection.transaction_mode = "IMMEDIATE"
    try:
        with transaction.atomic(using=using):
            yield
    finally:
        connection.transaction_mode = previous
