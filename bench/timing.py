"""
Measuring on a shared, noisy machine: contenders run in turns within each
round, the order rotating from round to round, so that a burst of someone
else's load falls on all of them alike. Figures are medians over the rounds.
"""

import statistics
import time


def interleaved(contenders, *, rounds, warmup=True, min_seconds=None, budget=None):
    """Run each contender once per round, rotating the order; return the
    seconds of each run, by name. A first untimed pass warms caches.

    With ``min_seconds``, a contender's turn repeats it for at least that
    long and records the seconds per call, for calls too quick to time one
    at a time. With ``budget`` (seconds), rounds stop early once it is spent,
    after three at least, for contenders too slow to run ``rounds`` times.
    """
    names = list(contenders)
    if warmup:
        for name in names:
            contenders[name]()
    seconds = {name: [] for name in names}
    started_all = time.perf_counter()
    for round_number in range(rounds):
        spent = time.perf_counter() - started_all
        if budget and round_number >= 3 and spent > budget:
            break
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            if min_seconds:
                seconds[name].append(
                    repeat_fast(contenders[name], min_seconds=min_seconds)
                )
                continue
            started = time.perf_counter()
            contenders[name]()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def repeat_fast(function, *, min_seconds=0.2, max_calls=10_000):
    """Seconds per call of a quick function: call it until ``min_seconds``
    have passed (at least once), so that a sub-millisecond call is timed
    over many calls."""
    calls = 0
    started = time.perf_counter()
    while True:
        function()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds or calls >= max_calls:
            return elapsed / calls


def median(values):
    return statistics.median(values) if values else None


def ratio(numerator, denominator):
    if not numerator or not denominator:
        return None
    return numerator / denominator
