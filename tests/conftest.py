import pytest

from tests.factories import make_batch, make_user


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (the enqueues) as if the transaction had
    committed: ``with commit(): batch_start(...)``."""

    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture


@pytest.fixture
def run_worker(monkeypatch):
    """Run a real django-tasks-db worker in this process until no task is
    ready. The worker's connection housekeeping is switched off, since the
    test's transaction must stay open."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run(worker_id="test-worker", max_tasks=None):
        worker = db_worker.Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.run()
        return worker

    return run


@pytest.fixture
def storybatch_settings(settings):
    """Change Storybatch settings for one test: ``storybatch_settings(LEASE_SECONDS=1)``."""

    def apply(**values):
        settings.STORYBATCH = {**getattr(settings, "STORYBATCH", {}), **values}

    return apply


@pytest.fixture
def batch_factory(db):
    return make_batch


@pytest.fixture
def user(db):
    return make_user("reader")


@pytest.fixture
def operator(db):
    return make_user("operator", staff=True, operator=True)


@pytest.fixture
def admin_user(db):
    return make_user("admin", superuser=True)


@pytest.fixture
def api_client(db):
    """A REST framework test client. The throttles count in the cache, which
    outlives a test, so the counts of earlier tests are forgotten first."""
    from django.core.cache import cache
    from rest_framework.test import APIClient

    cache.clear()
    return APIClient()


@pytest.fixture
def reader_client(api_client, user):
    """Logged in, with no permission beyond reading."""
    api_client.force_authenticate(user)
    return api_client


@pytest.fixture
def operator_client(api_client, operator):
    """Logged in with the permission to operate batches."""
    api_client.force_authenticate(operator)
    return api_client


# -- Admin ---------------------------------------------------------------------


def _staff_with(username, codenames):
    from django.contrib.auth.models import Permission

    staff = make_user(username, staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return staff


@pytest.fixture
def admin_viewer(db):
    """Staff who may look at batches and profiles but not operate them."""
    return _staff_with("viewer", ["view_batch", "view_profile"])


@pytest.fixture
def admin_operator(db):
    """Staff who may look at batches and profiles, and operate batches."""
    return _staff_with(
        "admin-operator", ["view_batch", "view_profile", "operate_batch"]
    )


@pytest.fixture
def admin_client_for(client):
    """A test client logged in as the given user: ``admin_client_for(user)``."""

    def login(user):
        client.force_login(user)
        return client

    return login
