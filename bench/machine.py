"""What the benchmarks ran on, for the head of RESULTS.md."""

import os
import platform
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib():
    try:
        with open("/proc/meminfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def postgres_version(url):
    """The server's version string, or why it could not be read."""
    import psycopg

    try:
        with psycopg.connect(maintenance_url(url), connect_timeout=5) as connection:
            return connection.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error as error:
        return f"unreachable ({type(error).__name__})"


def maintenance_url(url):
    """The same server, but the ``postgres`` database, for CREATE/DROP."""
    base, _, _ = url.rpartition("/")
    return f"{base}/postgres"


def _wrk_version():
    try:
        result = subprocess.run(
            ["wrk", "--version"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    return (result.stdout or result.stderr).splitlines()[0].strip()


def describe(postgres_url=None):
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(postgres_url) if postgres_url else "not used",
        "wrk": _wrk_version(),
    }
