"""Talking to the REST API from the benchmarks: a user with a token, and a
test client that sends it."""

import importlib.util
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def api_missing():
    """Why the API cannot be benchmarked yet, or an empty string."""
    if importlib.util.find_spec("batches.api.views") is None:
        return "batches/api/views.py does not exist yet"
    return ""


def bench_token():
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username="bench-reader")
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


class ApiClient:
    def __init__(self):
        self.client = Client(HTTP_AUTHORIZATION=f"Token {bench_token()}")

    def get(self, path):
        response = self.client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        return response

    def timed_get(self, path):
        started = time.perf_counter()
        self.get(path)
        return time.perf_counter() - started

    def queries_of(self, path):
        """The SQL statements one GET runs."""
        with CaptureQueriesContext(connection) as queries:
            self.get(path)
        return [query["sql"] for query in queries.captured_queries]


def short_sql(sql, width=110):
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 1] + "…"
