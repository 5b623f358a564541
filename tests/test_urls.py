"""The site's own addresses outside the API and the admin."""

import pytest


def test_the_root_leads_to_the_admin(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.django_db
def test_the_browsable_api_log_in_returns_to_the_api(client, user):
    response = client.post(
        "/api/auth/login/",
        {"username": "reader", "password": "a-long-test-password"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/api/batches/"
