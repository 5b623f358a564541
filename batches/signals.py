"""Signals that other apps may listen to."""

from django.dispatch import Signal

# Sent once per batch, after the transaction that finished it commits, by the
# one worker that finished it. Arguments: ``batch`` (the Batch).
batch_finished = Signal()
