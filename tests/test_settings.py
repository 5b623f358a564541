"""Production settings: strict, and checked by Django's deploy checks."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from batchsite.env import env_bool, env_int, env_list
from tests.workers import ROOT, database_url

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "production-secret-" + "k3y" * 20,
    "ALLOWED_HOSTS": "storybatch.example.org",
    "STORYBATCH_WEBHOOK_SECRET": "webhook-secret",
}


def manage(*args, **env):
    """manage.py in a fresh process, on the test database: Django's model
    checks ask PostgreSQL about its features."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION and key != "DJANGO_SETTINGS_MODULE"
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**environment, "DATABASE_URL": database_url(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(autouse=True)
def test_database(db):
    """The subprocesses connect to the test database (and write nothing)."""


def test_production_settings_pass_the_deploy_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {key: value for key, value in PRODUCTION.items() if key != missing}

    result = manage("check", **env)

    assert result.returncode != 0
    assert f"Set {missing}: it is required when DEBUG=false." in result.stderr


def test_deploy_checks_warn_about_unsigned_webhooks():
    env = {**PRODUCTION, "STORYBATCH_WEBHOOK_SECRET": ""}

    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode != 0
    assert "batches.W002" in result.stderr


def test_environment_values_are_parsed_strictly(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    monkeypatch.setenv("SOME_NUMBER", "ten")
    monkeypatch.setenv("SOME_LIST", " a, ,b ")

    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG must be true or false"):
        env_bool("SOME_FLAG")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER must be a whole"):
        env_int("SOME_NUMBER", 1)
    assert env_list("SOME_LIST") == ["a", "b"]


def test_every_storybatch_setting_can_come_from_the_environment():
    from batches.conf import settings_from_environment

    values = settings_from_environment(
        {
            "STORYBATCH_LEASE_SECONDS": "7.5",
            "STORYBATCH_TASKS_PER_BATCH": "2",
            "STORYBATCH_WEBHOOK_ALLOW_PRIVATE": "yes",
            "STORYBATCH_LLM_MODEL": "local-model",
            "UNRELATED": "x",
        }
    )

    assert values == {
        "LEASE_SECONDS": 7.5,
        "TASKS_PER_BATCH": 2,
        "WEBHOOK_ALLOW_PRIVATE": True,
        "LLM_MODEL": "local-model",
    }


def test_a_lease_shorter_than_a_round_of_template_stories_is_warned(
    storybatch_settings,
):
    from batches.checks import check_lease

    storybatch_settings(LEASE_SECONDS=10, LLM_TIMEOUT=5)

    assert [message.id for message in check_lease(None)] == ["batches.W003"]

    storybatch_settings(LEASE_SECONDS=120, LLM_TIMEOUT=60)

    assert check_lease(None) == []
