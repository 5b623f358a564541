"""
Take docs/admin-batches.png: the admin's batch list with its progress bars.

Run from the project root as ``.venv/bin/python scripts/screenshot_admin.py``.
Everything happens in a throwaway directory: a fresh SQLite database with a
superuser and a few batches, ``manage.py runserver`` on a free loopback port,
and headless Chromium driven by Playwright. The server is stopped and the
directory removed at the end.
"""

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "admin-batches.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
USERNAME = "staff"


def main():
    with tempfile.TemporaryDirectory(prefix="storybatch-screenshot-") as var_dir:
        env = site_environment(var_dir)
        password = secrets.token_urlsafe(16)
        prepare_database(env, password)
        port = free_port()
        server = start_server(env, port)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/admin/login/")
            take_screenshot(f"http://127.0.0.1:{port}", password)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"Saved {OUTPUT.relative_to(ROOT)}")


def site_environment(var_dir):
    env = {**os.environ, "STORYBATCH_VAR_DIR": var_dir, "DEBUG": "true"}
    # Always the throwaway SQLite database, never a configured one.
    env.pop("DATABASE_URL", None)
    return env


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


SEED = """
from django.contrib.auth import get_user_model
from django.utils import timezone
from batches.models import Batch, Profile

now = timezone.now()
get_user_model().objects.create_superuser({username!r}, password={password!r})

def batch(name, state, minutes_ago, **fields):
    started = now - timedelta(minutes=minutes_ago)
    return Batch.objects.create(
        name=name,
        state=state,
        created_at=started - timedelta(minutes=5),
        started_at=None if state == "draft" else started,
        **fields,
    )

def profiles(batch, status, count, start, **fields):
    Profile.objects.bulk_create(
        Profile(
            batch=batch,
            external_id=f"M{{number:05d}}",
            name=f"Member {{number}}",
            fields={{"party": "Independent", "state": "VT"}},
            status=status,
            story="A story." if status == "completed" else "",
            **fields,
        )
        for number in range(start, start + count)
    )

senate = batch("Senate, 118th Congress", "finished", 90, finished_at=now - timedelta(minutes=60))
profiles(senate, "completed", 96, 1)
profiles(senate, "failed", 4, 200, last_error="Rate limited by the language model.")

house = batch("House of Representatives", "running", 20)
profiles(house, "completed", 260, 1)
profiles(house, "failed", 25, 300, last_error="Template error: no field 'district'.")
profiles(house, "processing", 15, 400)
profiles(house, "pending", 135, 500)

governors = batch("Governors", "draft", 2)
profiles(governors, "pending", 50, 1)

trial = batch("Trial run", "cancelled", 300, finished_at=now - timedelta(minutes=280))
profiles(trial, "completed", 12, 1)
profiles(trial, "pending", 28, 100)
"""


def prepare_database(env, password):
    manage(env, "migrate", "--verbosity", "0")
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        SEED.format(username=USERNAME, password=password),
    )


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env, port):
    return subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until_up(url, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError as error:
            if time.monotonic() > deadline:
                raise SystemExit(f"The server did not answer at {url}.") from error
            time.sleep(0.2)


def take_screenshot(base_url, password):
    from playwright.sync_api import sync_playwright

    OUTPUT.parent.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 560})
            page.goto(f"{base_url}/admin/login/?next=/admin/batches/batch/")
            page.fill("#id_username", USERNAME)
            page.fill("#id_password", password)
            page.click("input[type=submit]")
            page.wait_for_selector(".storybatch-progress")
            # The app list beside the table only takes room from it.
            page.click("#toggle-nav-sidebar")
            page.screenshot(path=str(OUTPUT), full_page=True)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
