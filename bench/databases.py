"""
The benchmarks' own databases: a fresh SQLite file under the work directory,
or a PostgreSQL database whose name says it belongs to the benchmarks, made
anew for each run and dropped afterwards. Nothing here touches var/ or
anyone's test database.
"""

import os
import secrets
from pathlib import Path

import psycopg

from bench.machine import maintenance_url

SQLITE = "sqlite"
POSTGRES = "postgresql"


def default_postgres_url():
    suffix = os.environ.get("STORYBATCH_TEST_DB_SUFFIX", "")
    return f"postgres://postgres@127.0.0.1:5432/storybatch_bench{suffix}"


def _database_name(url):
    return url.rpartition("/")[2].split("?")[0]


def postgres_reachable(url):
    try:
        with psycopg.connect(maintenance_url(url), connect_timeout=5):
            return True
    except psycopg.Error:
        return False


def _postgres_recreate(url):
    name = _database_name(url)
    # The benchmarks drop this database: refuse any name that is not
    # plainly theirs, so that a mistyped URL cannot drop someone's data.
    if "bench" not in name or not name.replace("_", "").isalnum():
        raise SystemExit(
            f"Refusing to use {name!r}: a bench database name has 'bench' in it."
        )
    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def postgres_drop(url):
    name = _database_name(url)
    if "bench" not in name:
        return
    with psycopg.connect(maintenance_url(url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite_recreate(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)


def prepare(database, *, workdir, postgres_url):
    """Make the bench database empty and return the environment that points
    Django at it, for the processes that run the benchmarks."""
    var_dir = workdir / f"var-{database}"
    var_dir.mkdir(parents=True, exist_ok=True)
    if database == SQLITE:
        path = workdir / "sqlite" / "bench.sqlite3"
        _sqlite_recreate(path)
        url = f"sqlite:///{path}"
    else:
        _postgres_recreate(postgres_url)
        url = postgres_url

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "batchsite.settings",
        "DATABASE_URL": url,
        "STORYBATCH_VAR_DIR": str(var_dir),
        # As in production: with DEBUG on, Django keeps the text of the last
        # 9,000 queries, which a million-row import would fill with
        # megabytes of INSERTs and so measure the wrong thing.
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        "STORYBATCH_LOG_LEVEL": "WARNING",
        "BENCH_DATABASE": database,
    }


def cleanup(database, *, postgres_url, keep=False):
    if database == POSTGRES and not keep:
        postgres_drop(postgres_url)
