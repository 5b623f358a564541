"""
CORS in a real browser: a page served from one loopback origin drives the
API on another, in headless Chromium. Where the page's origin is allowed,
the token, the list and the reset all work; where it is not, the browser
keeps every answer from the page.

Served as http://localhost:<port> the page is on an allowed origin; the very
same server reached as http://127.0.0.1:<port> is another origin, not
allowed.
"""

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from batches.models import Batch, Profile
from tests.factories import make_batch, make_profiles

pytestmark = pytest.mark.browser

PAGE_DIR = Path(__file__).parent / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "a-long-test-password"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def page_port():
    """A tiny static server for the page, on loopback only."""
    handler = functools.partial(QuietHandler, directory=str(PAGE_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def chromium(tmp_path):
    """Runs a page in headless Chromium, with a fresh profile, and gives
    back what an expression in it evaluates to.

    Playwright's synchronous API keeps an event loop running in its thread,
    where Django then refuses database queries; so the browser is driven
    from a thread of its own and the test's thread keeps the database.
    """

    def evaluate(url, expression, arg):
        from playwright.sync_api import sync_playwright

        def drive():
            with sync_playwright() as playwright:
                context = playwright.chromium.launch_persistent_context(
                    str(tmp_path / "chromium-profile"),
                    executable_path=CHROMIUM,
                    headless=True,
                    args=CHROMIUM_ARGS,
                )
                try:
                    page = context.new_page()
                    page.goto(url)
                    return page.evaluate(expression, arg)
                finally:
                    context.close()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(drive).result(timeout=120)

    return evaluate


@pytest.fixture
def api(live_server, settings, page_port, operator):
    """The API's address, with the page's localhost origin allowed."""
    cache.clear()
    settings.CORS_ALLOWED_ORIGINS = [f"http://localhost:{page_port}"]
    return {"api": live_server.url, "username": "operator", "password": PASSWORD}


def make_failed_batch():
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)
    make_profiles(batch, 2, status=Profile.Status.FAILED, start=10)
    return batch


def test_a_page_on_an_allowed_origin_uses_the_api(api, chromium, page_port):
    batch = make_failed_batch()

    result = chromium(
        f"http://localhost:{page_port}/cors_client.html", "args => useApi(args)", api
    )

    assert result["statuses"] == [200, 200, 200]
    assert result["batches"] == [batch.pk]
    assert result["reset"] == {"total": 2, "results": [{"batch": batch.pk, "reset": 2}]}
    assert not Profile.objects.filter(status=Profile.Status.FAILED).exists()


def test_a_page_on_another_origin_cannot_read_the_answers(api, chromium, page_port):
    make_failed_batch()

    result = chromium(
        f"http://127.0.0.1:{page_port}/cors_client.html",
        "args => tryEachStep(args)",
        api,
    )

    for step in ("token", "simpleRead", "reset"):
        assert result[step] == {"error": "TypeError: Failed to fetch"}, step
    # The preflights were refused, so the POSTs were never sent.
    assert not Token.objects.exists()
    assert Profile.objects.filter(status=Profile.Status.FAILED).count() == 2
