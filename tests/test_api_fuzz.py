"""
The API against its own OpenAPI schema: schemathesis generates requests
from the schema, sends them to the WSGI application in this process (no
network), and checks that no answer is a server error and that every
answer is one the schema documents, in the shape it documents.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import positive_data_acceptance

from batches.models import Batch, Profile
from batchsite.wsgi import application
from tests.factories import make_batch, make_user

pytestmark = pytest.mark.slow

# Enough to reach each operation's corners, few enough that the whole run
# stays within a few minutes on a small machine.
EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def in_test_transaction():
    """Keep the WSGI handler from closing the connection after each
    request, as Django's own test client does: the test's transaction,
    which holds the data below, lives on that connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_data(db, settings):
    """A few batches in every state, with profiles in every status."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        # The fuzzer sends far more than a person would; throttling is
        # tested on its own.
        "DEFAULT_THROTTLE_RATES": {"mutations": "100000/minute"},
    }
    for state in Batch.State.values:
        for status in Profile.Status.values:
            make_batch(profiles=3, state=state, status=status)
    make_batch(profiles=0)


def whole_number(value):
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def aim_at_rows(case):
    """Most generated ids name nothing, and would only ever test the 404.
    Whole-number ids are turned into ones that exist (chosen by their value,
    so that runs stay reproducible); a case that means to send a bad id
    keeps it, to be refused."""
    params = case.path_parameters or {}
    numbers = {name: whole_number(value) for name, value in params.items()}
    if not numbers or None in numbers.values():
        return

    if numbers.keys() == {"batch_id", "id"}:
        profiles = list(Profile.objects.order_by("pk").values_list("batch_id", "pk"))
        params["batch_id"], params["id"] = profiles[numbers["id"] % len(profiles)]
    else:
        (name, number), *_ = numbers.items()
        batch_ids = list(Batch.objects.order_by("pk").values_list("pk", flat=True))
        params[name] = batch_ids[number % len(batch_ids)]


@pytest.fixture
def operator_token(db):
    operator = make_user("fuzz-operator", operator=True)
    return Token.objects.create(user=operator).key


# Loaded as the module is collected: the schema is made from the code and
# needs no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    # The same examples on every run, so that a failure in CI can be
    # reproduced; and no example database left in the working tree.
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_every_answer_matches_the_schema(
    case, fuzz_data, in_test_transaction, operator_token
):
    aim_at_rows(case)
    case.call_and_validate(
        headers={"Authorization": f"Token {operator_token}"},
        # A request the schema allows may still be refused: the profiles
        # must come as a file or a list (not both), and a file must parse;
        # credentials must match. Such rules are beyond what a schema says.
        excluded_checks=[positive_data_acceptance],
    )
