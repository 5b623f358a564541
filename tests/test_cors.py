"""
CORS: a preflight from an allowed origin is answered 200, with the origin
and the asked method and headers allowed, on every route under /api/; a
disallowed origin is never given Access-Control-Allow-Origin.

The routes are found by walking the URL resolver, so that a route added
later is checked without anyone remembering to list it here.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from batches.api.urls import router
from tests.factories import make_batch

pytestmark = pytest.mark.django_db

ALLOWED = "http://localhost:3000"
DISALLOWED = "http://evil.example"
ASKED_HEADERS = "authorization, content-type, x-csrftoken"
PROJECT = Path(__file__).resolve().parent.parent


def walk(resolver=None, namespace="", prefix=""):
    """(namespaced name, URLPattern) of every named route under /api/."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if not route.lstrip("^").startswith("api/"):
            continue
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry, inner, route)
        elif entry.name:
            yield f"{namespace}{entry.name}", entry


def methods_of(pattern):
    """The methods a route answers, from its view."""
    actions = getattr(pattern.callback, "actions", None)
    if actions:
        return sorted(method.upper() for method in actions)
    view = getattr(pattern.callback, "cls", None) or pattern.callback.view_class
    return sorted(
        method.upper()
        for method in view.http_method_names
        if method not in ("options", "head") and hasattr(view, method)
    ) or ["GET"]


ROUTES = list(walk())
CASES = [(name, method) for name, pattern in ROUTES for method in methods_of(pattern)]


@pytest.fixture
def ids():
    batch = make_batch(profiles=1)
    return {"batch": batch.pk, "profile": batch.profiles.get().pk}


def path_of(name, ids):
    pattern = dict(ROUTES)[name]
    values = {
        "pk": ids["profile"] if "batch-profile" in name else ids["batch"],
        "batch_id": ids["batch"],
        "path": "no/such/route",
    }
    kwargs = {key: values[key] for key in pattern.pattern.regex.groupindex}
    return reverse(name, kwargs=kwargs)


def preflight(path, origin, method):
    return Client().options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": ASKED_HEADERS,
        },
    )


def test_the_walk_finds_every_route_the_router_makes():
    walked = {name for name, _ in ROUTES}
    made = {f"api:{url.name}" for url in router.urls}

    assert made <= walked
    assert {"api:batch-reset-many", "api:batch-reset", "api:batch-export"} <= walked
    assert {"api:auth-token", "api:schema", "api:docs"} <= walked


@pytest.mark.parametrize("slash", ["", "/"])
@pytest.mark.parametrize("name, method", CASES)
def test_preflight_from_an_allowed_origin_is_answered(ids, name, method, slash):
    path = path_of(name, ids).rstrip("/") + slash

    response = preflight(path, ALLOWED, method)

    assert response.status_code == 200, path
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert method in response["Access-Control-Allow-Methods"].split(", ")
    allowed_headers = response["Access-Control-Allow-Headers"].split(", ")
    assert {"authorization", "content-type", "x-csrftoken"} <= set(allowed_headers)
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "origin" in response["Vary"].lower()


@pytest.mark.parametrize("name, method", CASES)
def test_preflight_from_a_disallowed_origin_is_not_allowed(ids, name, method):
    response = preflight(path_of(name, ids), DISALLOWED, method)

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(
    "origin",
    ["http://localhost:3001", "https://localhost:3000", "null", "http://localhost"],
)
def test_origins_that_only_resemble_an_allowed_one_are_not_allowed(ids, origin):
    response = preflight(f"/api/batches/{ids['batch']}/reset/", origin, "POST")

    assert "Access-Control-Allow-Origin" not in response


def test_errors_carry_the_header_so_the_page_can_read_them(ids):
    response = Client().get("/api/batches/", headers={"Origin": ALLOWED})

    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == ALLOWED


def test_answers_to_a_disallowed_origin_carry_no_header(ids):
    response = Client().get("/api/batches/", headers={"Origin": DISALLOWED})

    assert "Access-Control-Allow-Origin" not in response


def test_the_export_file_name_is_readable_across_origins(reader_client, ids):
    response = reader_client.get(
        f"/api/batches/{ids['batch']}/export/", headers={"Origin": ALLOWED}
    )

    assert "Content-Disposition" in response["Access-Control-Expose-Headers"]


def test_routes_outside_the_api_get_no_cors_headers(db):
    response = preflight("/admin/login/", ALLOWED, "POST")

    assert "Access-Control-Allow-Origin" not in response


def test_allowed_origins_come_from_settings_at_request_time(settings, ids):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    path = f"/api/batches/{ids['batch']}/reset/"

    moved = preflight(path, "https://app.example.com", "POST")
    old = preflight(path, ALLOWED, "POST")

    assert moved["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in old


def settings_from_environment(var_dir, **environ):
    """Origins as a fresh process reads them from the environment."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.CORS_ALLOWED_ORIGINS, "
        "settings.CSRF_TRUSTED_ORIGINS]))"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CORS_", "CSRF_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **keep,
            "DJANGO_SETTINGS_MODULE": "batchsite.settings",
            "STORYBATCH_VAR_DIR": str(var_dir),
            **environ,
        },
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "environ, origins, trusted",
    [
        ({"DEBUG": "true"}, ["http://localhost:3000"], ["http://localhost:3000"]),
        (
            {"CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example"},
            ["https://a.example", "https://b.example"],
            ["https://a.example", "https://b.example"],
        ),
        (
            {
                "CORS_ALLOWED_ORIGINS": "https://a.example",
                "CSRF_TRUSTED_ORIGINS": "https://c.example",
            },
            ["https://a.example"],
            ["https://c.example"],
        ),
        (
            {"DEBUG": "false", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "api.example"},
            [],
            [],
        ),
    ],
    ids=["development-default", "from-environment", "csrf-set-apart", "production"],
)
def test_origins_are_configured_from_the_environment(
    tmp_path, environ, origins, trusted
):
    assert settings_from_environment(tmp_path, **environ) == [origins, trusted]
