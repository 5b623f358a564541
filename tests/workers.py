"""Starting real db_worker processes against the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url():
    """The URL of the test database, for processes outside this one."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


class WorkerProcess:
    def __init__(self, worker_id, log_dir, **env):
        self.worker_id = worker_id
        self.log_path = Path(log_dir) / f"{worker_id}.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "DATABASE_URL": database_url(),
            "STORYBATCH_LOG_LEVEL": "INFO",
            **{key: str(value) for key, value in env.items()},
        }
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.1",
                "--worker-id",
                worker_id,
            ],  # fmt: skip
            cwd=ROOT,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self, timeout=30):
        """SIGTERM, then wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=10)
        self._log.close()

    def log(self):
        return self.log_path.read_text()


def wait_until(predicate, *, timeout, interval=0.2, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
