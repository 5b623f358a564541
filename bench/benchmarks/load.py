"""
The progress endpoint under load: gunicorn serving the site on loopback and
wrk (or, where wrk is not installed, a bounded Python load generator)
keeping 16 connections busy for 20 seconds on
``GET /api/batches/{id}/progress/`` of the 100,000-profile batch.
"""

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

from bench.api import api_missing, bench_token
from bench.context import ROOT
from bench.fixtures import fixture_batch
from bench.results import Section, not_run

KEY = "load"
TITLE = "Progress endpoint under load"
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(port):
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "batchsite.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(GUNICORN_WORKERS),
        "--worker-class",
        "gthread",
        "--threads",
        str(GUNICORN_THREADS),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=os.environ)


def _wait_ready(port, path, headers, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path, headers=headers)
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {path} within {seconds} s")


def _milliseconds(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def run_wrk(url, token, *, seconds, connections):
    result = subprocess.run(
        [
            "wrk",
            "--threads",
            "2",
            "--connections",
            str(connections),
            "--duration",
            f"{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "--header",
            f"Authorization: Token {token}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    out = result.stdout
    latency = dict(
        re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s|m))", out, re.M)
    )
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"cannot read wrk's latency distribution from:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return {
        "tool": "wrk",
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _milliseconds(latency["50"]),
        "p99_ms": _milliseconds(latency["99"]),
        "errors": errors,
    }


def run_python_load(port, path, token, *, seconds, connections, max_requests=200_000):
    """One thread per connection, each with a keep-alive connection, until
    the time or the request budget runs out."""
    deadline = time.monotonic() + seconds
    latencies, errors, lock = [], [0], threading.Lock()
    budget = [max_requests]

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            started = time.perf_counter()
            try:
                connection.request(
                    "GET", path, headers={"Authorization": f"Token {token}"}
                )
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors[0] += 0 if ok else 1

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "tool": "Python threads",
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "errors": errors[0],
    }


def run(ctx):
    missing = api_missing()
    if missing:
        return not_run(KEY, TITLE, ctx.database, missing)

    section = Section(KEY, TITLE, ctx.database)
    size = (
        100_000
        if 100_000 in ctx.plan("progress_sizes")
        else ctx.plan("progress_sizes")[0]
    )
    batch_id = fixture_batch(ctx, size)
    token = bench_token()
    seconds, connections = ctx.plan("load_seconds"), ctx.plan("load_connections")
    port = _free_port()
    path = f"/api/batches/{batch_id}/progress/"
    server = _start_server(port)
    try:
        _wait_ready(port, path, {"Authorization": f"Token {token}"})
        if shutil.which("wrk"):
            result = run_wrk(
                f"http://127.0.0.1:{port}{path}",
                token,
                seconds=seconds,
                connections=connections,
            )
        else:
            result = run_python_load(
                port, path, token, seconds=seconds, connections=connections
            )
    finally:
        server.terminate()
        server.wait(timeout=30)

    figures = section.table(
        "GET progress of one batch under load",
        [
            "batch profiles",
            "load generator",
            "seconds",
            "connections",
            "requests",
            "requests/s",
            "p50 ms",
            "p99 ms",
            "errors",
        ],
    )
    figures.add(
        size,
        result["tool"],
        seconds,
        connections,
        result["requests"],
        result["rps"],
        result["p50_ms"],
        result["p99_ms"],
        result["errors"],
    )
    section.check(
        "zero errors under load",
        result["errors"] == 0,
        f"{result['errors']} errors in {result['requests']:,} requests; "
        f"{result['rps']:.0f} requests/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms",
    )
    section.notes.append(
        f"gunicorn {GUNICORN_WORKERS} workers x {GUNICORN_THREADS} threads (gthread), "
        "DEBUG=false, CONN_MAX_AGE as configured (default 0: a new database "
        "connection per request); the load generator shares the machine's "
        f"{os.cpu_count()} cores with the server and the database."
    )
    return section
