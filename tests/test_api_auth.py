"""Who may use the API: tokens, sessions with CSRF, permissions, throttling."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from batches.api.permissions import can_operate_batches
from batches.models import Batch
from tests.factories import make_batch, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
ALLOWED_ORIGIN = "http://localhost:3000"

READS = [
    ("get", "/api/batches/"),
    ("get", "/api/batches/{batch}/"),
    ("get", "/api/batches/{batch}/progress/"),
    ("get", "/api/batches/{batch}/profiles/"),
    ("get", "/api/batches/{batch}/profiles/{profile}/"),
    ("get", "/api/batches/{batch}/events/"),
    ("get", "/api/batches/{batch}/export/"),
]
OPERATIONS = [
    ("post", "/api/batches/{batch}/start/"),
    ("post", "/api/batches/{batch}/reset/"),
    ("post", "/api/batches/{batch}/retry/"),
    ("post", "/api/batches/{batch}/cancel/"),
    ("post", "/api/batches/reset/"),
    ("delete", "/api/batches/{batch}/"),
]
CREATE = ("post", "/api/batches/")


def call(client, method, path, batch):
    url = path.format(batch=batch.pk, profile=batch.profiles.first().pk)
    return getattr(client, method)(url, {}, format="json")


@pytest.mark.parametrize("method, path", [*READS, *OPERATIONS, CREATE])
def test_anonymous_requests_are_told_to_authenticate(api_client, method, path):
    batch = make_batch(profiles=1)

    response = call(api_client, method, path, batch)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("method, path", READS)
def test_a_logged_in_user_may_read(reader_client, method, path):
    batch = make_batch(profiles=1)

    assert call(reader_client, method, path, batch).status_code == 200


@pytest.mark.parametrize("method, path", OPERATIONS)
def test_operating_needs_the_permission(reader_client, method, path):
    batch = make_batch(profiles=1)

    response = call(reader_client, method, path, batch)

    assert response.status_code == 403
    assert "batches.operate_batch" in response.data["detail"]
    assert Batch.objects.get().state == Batch.State.DRAFT


@pytest.mark.parametrize("method, path", OPERATIONS)
def test_operators_may_operate(operator_client, method, path):
    batch = make_batch(profiles=1)

    response = call(operator_client, method, path, batch)

    # 409 where the draft's state does not allow the action: past the
    # permission check either way.
    assert response.status_code in (200, 204, 409)


def test_a_logged_in_user_may_create_a_draft(reader_client):
    response = reader_client.post(
        "/api/batches/",
        {"name": "Mine", "profiles": [{"id": "1", "name": "Ada"}]},
        format="json",
    )

    assert response.status_code == 201


def test_the_permission_rule_the_admin_shares():
    reader = make_user("reader")
    operator = make_user("operator", operator=True)
    retired = make_user("retired", operator=True)
    retired.is_active = False
    retired.save()
    grouped = make_user("grouped")
    group = grouped.groups.create(name="operators")
    group.permissions.add(Permission.objects.get(codename="operate_batch"))

    assert not can_operate_batches(reader)
    assert can_operate_batches(operator)
    assert can_operate_batches(make_user("root", superuser=True))
    assert can_operate_batches(grouped)
    assert not can_operate_batches(retired)
    assert not can_operate_batches(None)


# -- Tokens ----------------------------------------------------------------------------


def test_a_token_is_given_for_a_username_and_password(api_client, operator):
    response = api_client.post(
        "/api/auth/token/",
        {"username": "operator", "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    assert response.data["token"] == Token.objects.get(user=operator).key


def test_the_token_authenticates_requests(api_client, operator):
    token = Token.objects.create(user=operator)
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert api_client.get("/api/batches/").status_code == 200
    assert api_client.post(f"/api/batches/{batch.pk}/cancel/").status_code == 200


def test_a_wrong_token_is_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert api_client.get("/api/batches/").status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"username": "operator", "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "operator"},
        {"username": ["operator"], "password": {"a": 1}},
        {},
    ],
)
def test_no_token_for_wrong_credentials(api_client, operator, body):
    response = api_client.post("/api/auth/token/", body, format="json")

    assert response.status_code == 400
    assert not Token.objects.exists()


def test_no_token_for_a_body_that_is_not_json(api_client):
    response = api_client.generic(
        "POST", "/api/auth/token/", "{oops", content_type="application/json"
    )

    assert response.status_code == 400


# -- Sessions and CSRF ---------------------------------------------------------------


@pytest.fixture
def session_client(operator):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="operator", password=PASSWORD)
    return client


def csrf_token(client):
    return client.get("/api/auth/csrf/").data["csrf_token"]


def test_a_session_may_read_without_csrf(session_client):
    assert session_client.get("/api/batches/").status_code == 200


def test_a_session_post_without_csrf_token_is_refused(session_client):
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)

    response = session_client.post(f"/api/batches/{batch.pk}/cancel/")

    assert response.status_code == 403
    assert "CSRF" in response.data["detail"]
    assert Batch.objects.get().state == Batch.State.RUNNING


def test_a_session_post_with_csrf_token_from_an_allowed_origin(session_client):
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)

    response = session_client.post(
        f"/api/batches/{batch.pk}/cancel/",
        HTTP_X_CSRFTOKEN=csrf_token(session_client),
        HTTP_ORIGIN=ALLOWED_ORIGIN,
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


def test_a_session_post_from_an_untrusted_origin_is_refused(session_client):
    batch = make_batch(profiles=1, state=Batch.State.RUNNING)

    response = session_client.post(
        f"/api/batches/{batch.pk}/cancel/",
        HTTP_X_CSRFTOKEN=csrf_token(session_client),
        HTTP_ORIGIN="http://evil.example",
    )

    assert response.status_code == 403
    assert "Origin" in response.data["detail"]
    assert Batch.objects.get().state == Batch.State.RUNNING


# -- Throttling ------------------------------------------------------------------------


@pytest.fixture
def two_mutations_a_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"mutations": "2/minute"},
    }


def test_mutations_are_throttled_per_user(two_mutations_a_minute, operator_client):
    batch = make_batch(profiles=1, state=Batch.State.FINISHED)
    url = f"/api/batches/{batch.pk}/reset/"
    colleague = APIClient()
    colleague.force_authenticate(make_user("colleague", operator=True))

    answers = [operator_client.post(url).status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    assert operator_client.post(url).has_header("Retry-After")
    assert colleague.post(url).status_code == 200


def test_reads_are_not_throttled(two_mutations_a_minute, reader_client):
    batch = make_batch()

    answers = {
        reader_client.get(f"/api/batches/{batch.pk}/").status_code for _ in range(5)
    }

    assert answers == {200}


def test_token_requests_are_throttled_too(two_mutations_a_minute, api_client, user):
    body = {"username": "reader", "password": "wrong"}

    answers = [
        api_client.post("/api/auth/token/", body, format="json").status_code
        for _ in range(3)
    ]

    assert answers == [400, 400, 429]
