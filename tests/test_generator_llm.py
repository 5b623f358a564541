"""
The language-model generator, end to end against a chat-completions stub on
loopback: real batches, real workers, and every way the server can answer.
"""

import itertools
import logging
import socket
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest
from django.core import checks

from batches import checks as batch_checks
from batches.generators import GenerationError, GeneratorConfig, ProfileData
from batches.generators.llm import (
    ChatCompletionGenerator,
    RequestRateLimiter,
    error_for_status,
    retry_after_seconds,
    shared_rate_limiter,
)
from batches.models import Batch, BatchEvent, Profile, ProfileAttempt
from batches.processing import batch_process
from batches.services import batch_start
from tests.factories import make_batch
from tests.llm_stub import ChatCompletionStub, Reply

API_KEY = "sk-test-4f1e9c0d-never-in-logs"
Outcome = ProfileAttempt.Outcome

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    """The stub is on loopback: a proxy named by the environment must not
    carry the generator's requests anywhere else."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def stub():
    server = ChatCompletionStub().start()
    yield server
    server.stop()


@pytest.fixture
def llm(stub, storybatch_settings):
    """Storybatch pointed at the stub, with backoffs short enough to wait
    out in a test."""
    storybatch_settings(
        LLM_BASE_URL=stub.base_url,
        LLM_API_KEY=API_KEY,
        LLM_MODEL="stub-model",
        LLM_TEMPERATURE=0.7,
        LLM_MAX_TOKENS=300,
        LLM_TIMEOUT=2.0,
        LLM_CONCURRENCY=4,
        LLM_REQUESTS_PER_MINUTE=0,
        BACKOFF_BASE_SECONDS=0.01,
        BACKOFF_MAX_SECONDS=5.0,
        TASKS_PER_BATCH=2,
    )
    return stub


@pytest.fixture
def all_logs(caplog):
    """Every log record at every level, the app's own included (the
    ``batches`` logger does not propagate to the root, where caplog
    listens)."""
    app_logger = logging.getLogger("batches")
    app_logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="batches")
    yield caplog
    app_logger.removeHandler(caplog.handler)


def run_batch(batch, commit, run_worker, *, seconds=15):
    """Start the batch and run workers until it finishes. Retried profiles
    come back after a backoff, when a worker that ran out of ready tasks has
    stopped, so the worker is run again until the batch is done."""
    with commit():
        batch_start(batch=batch, source=BatchEvent.Source.COMMAND)
    deadline = time.monotonic() + seconds
    while True:
        run_worker()
        batch.refresh_from_db()
        if batch.state == Batch.State.FINISHED or time.monotonic() > deadline:
            return batch
        time.sleep(0.02)


def outcomes(profile):
    return list(profile.attempt_log.values_list("outcome", flat=True))


def only_profile(batch):
    return Profile.objects.get(batch=batch)


def llm_batch(**fields):
    fields.setdefault("profiles", 1)
    return make_batch(generator=Batch.Generator.LLM, **fields)


# -- A good answer ---------------------------------------------------------------


def test_story_comes_from_the_model_with_its_token_usage(db, llm, commit, run_worker):
    batch = llm_batch(
        profiles=3,
        template="Tell the story of {{ name }} from {{ state|us_state }}.",
        options={"model": "batch-model", "temperature": 0.2},
    )

    batch = run_batch(batch, commit, run_worker)

    assert batch.state == Batch.State.FINISHED
    first = batch.profiles.order_by("id").first()
    assert first.status == Profile.Status.COMPLETED
    assert first.story == "A story from: Tell the story of Member Number 1 from Texas."
    assert (first.prompt_tokens, first.completion_tokens) == (12, 34)
    assert first.attempts == 1
    assert outcomes(first) == [Outcome.COMPLETED]
    progress = Profile.objects.filter(batch=batch).progress()
    assert (progress.completed, progress.prompt_tokens) == (3, 36)
    assert progress.completion_tokens == 102


def test_request_carries_model_temperature_key_and_prompt(db, llm, commit, run_worker):
    batch = llm_batch(template="About {{ name }}.", options={"temperature": 0})

    run_batch(batch, commit, run_worker)

    [request] = llm.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.body == {
        "model": "stub-model",
        "messages": [{"role": "user", "content": "About Member Number 1."}],
        "temperature": 0.0,
        "max_tokens": 300,
    }


def test_blank_template_asks_for_a_short_biography_of_the_fields(
    db, llm, commit, run_worker
):
    batch = llm_batch(template="")

    run_batch(batch, commit, run_worker)

    prompt = llm.requests[0].prompt
    assert prompt.startswith("Write a short biography")
    assert "of Member Number 1." in prompt
    assert "- Party: Republican" in prompt
    assert "- State: TX" in prompt


def test_no_authorization_header_without_an_api_key(
    db, llm, storybatch_settings, commit, run_worker
):
    storybatch_settings(LLM_API_KEY="")

    run_batch(llm_batch(), commit, run_worker)

    assert "Authorization" not in llm.requests[0].headers


# -- Answers that may pass: retried with backoff ---------------------------------


def test_timeout_is_retried_and_then_succeeds(
    db, llm, storybatch_settings, commit, run_worker
):
    storybatch_settings(LLM_TIMEOUT=0.2)
    llm.script(Reply.story("Too late.", delay=1.0))

    batch = run_batch(llm_batch(), commit, run_worker)

    profile = only_profile(batch)
    assert profile.status == Profile.Status.COMPLETED
    assert profile.story.startswith("A story from:")
    assert profile.attempts == 2
    assert outcomes(profile) == [Outcome.RETRYING, Outcome.COMPLETED]
    first = profile.attempt_log.first()
    assert first.error == "The model server did not answer within 0.2 seconds."


def test_rate_limit_waits_as_long_as_retry_after_says(db, llm, commit, run_worker):
    llm.script(Reply.error(429, "Slow down.", headers={"Retry-After": "1"}))

    batch = run_batch(llm_batch(), commit, run_worker)

    profile = only_profile(batch)
    assert profile.status == Profile.Status.COMPLETED
    assert profile.attempts == 2
    assert outcomes(profile) == [Outcome.RETRYING, Outcome.COMPLETED]
    assert profile.attempt_log.first().error == (
        "The model server is rate limiting requests (HTTP 429: Slow down.)."
    )
    first, second = llm.requests
    # The backoff alone would have been about 0.01 seconds.
    assert second.arrived - first.arrived >= 0.95


def test_server_errors_are_retried_until_the_attempts_run_out(
    db, llm, commit, run_worker
):
    llm.default = Reply.error(500, "Engine overloaded")

    batch = run_batch(llm_batch(max_attempts=3), commit, run_worker)

    profile = only_profile(batch)
    assert profile.status == Profile.Status.FAILED
    assert profile.attempts == 3
    assert outcomes(profile) == [Outcome.RETRYING, Outcome.RETRYING, Outcome.FAILED]
    assert profile.last_error == (
        "The model server could not answer (HTTP 500: Engine overloaded) "
        "(gave up after 3 attempts)"
    )
    assert len(llm.requests) == 3


def test_answer_that_is_not_json_is_retried(db, llm, commit, run_worker):
    llm.default = Reply.raw(b"<html><body>502 Bad Gateway</body></html>")

    batch = run_batch(llm_batch(max_attempts=2), commit, run_worker)

    profile = only_profile(batch)
    assert profile.status == Profile.Status.FAILED
    assert profile.attempts == 2
    assert outcomes(profile) == [Outcome.RETRYING, Outcome.FAILED]
    assert profile.last_error == (
        "The model server's answer is not JSON (content type 'text/html') "
        "(gave up after 2 attempts)"
    )


def test_empty_story_is_retried_and_then_succeeds(db, llm, commit, run_worker):
    llm.script(Reply.story(""))

    batch = run_batch(llm_batch(), commit, run_worker)

    profile = only_profile(batch)
    assert profile.status == Profile.Status.COMPLETED
    assert profile.attempts == 2
    assert profile.attempt_log.first().error == "The model returned an empty story."


# -- Answers that will not pass: failed at once, with the reason ----------------

PERMANENT_FAILURES = [
    pytest.param(
        Reply.error(401, "Incorrect API key provided."),
        {},
        "The model server refused the API key (HTTP 401).",
        id="401",
    ),
    pytest.param(
        Reply.error(403, "Project has no access to this model."),
        {},
        "The API key may not use this model server or model "
        "(HTTP 403: Project has no access to this model.).",
        id="403",
    ),
    pytest.param(
        Reply.error(404, "The model `nope` does not exist."),
        {"model": "nope"},
        "Unknown model 'nope' (HTTP 404: The model `nope` does not exist.).",
        id="404-model",
    ),
    pytest.param(
        Reply.error(
            400, "This model's maximum context length is 4096 tokens, you asked 9000."
        ),
        {},
        "The prompt is too long for the model (HTTP 400: This model's maximum "
        "context length is 4096 tokens, you asked 9000.).",
        id="400-too-long",
    ),
    pytest.param(
        Reply.error(400, "temperature: must be at most 2"),
        {},
        "The model server rejected the request (HTTP 400: temperature: must be "
        "at most 2).",
        id="400-other",
    ),
    pytest.param(
        Reply(body={"object": "list", "data": []}),
        {},
        "The model server's answer has no choices, so it is not a chat completion.",
        id="no-choices",
    ),
]


@pytest.mark.parametrize(("reply", "options", "error"), PERMANENT_FAILURES)
def test_permanent_failure_fails_the_profile_at_once(
    db, llm, commit, run_worker, reply, options, error
):
    llm.default = reply

    batch = run_batch(llm_batch(max_attempts=3, options=options), commit, run_worker)

    profile = only_profile(batch)
    assert profile.status == Profile.Status.FAILED
    assert profile.last_error == error
    assert profile.attempts == 1
    assert outcomes(profile) == [Outcome.FAILED]
    assert len(llm.requests) == 1


def test_unconfigured_server_fails_every_profile_with_the_reason(
    db, llm, storybatch_settings, commit, run_worker
):
    storybatch_settings(LLM_BASE_URL="")

    batch = run_batch(llm_batch(profiles=2), commit, run_worker)

    assert batch.state == Batch.State.FINISHED
    errors = set(batch.profiles.values_list("last_error", flat=True))
    assert errors == {
        "The batch's generator could not start: ImproperlyConfigured: No language "
        "model server is configured: set STORYBATCH_LLM_BASE_URL."
    }
    assert llm.requests == []


def test_bad_temperature_option_fails_with_the_reason(db, llm, commit, run_worker):
    batch = run_batch(llm_batch(options={"temperature": "hot"}), commit, run_worker)

    profile = only_profile(batch)
    assert profile.status == Profile.Status.FAILED
    assert "temperature must be a number from 0 to 2, not 'hot'" in profile.last_error
    assert llm.requests == []


# -- The API key stays secret ----------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply.error(401, f"Incorrect API key provided: {API_KEY}."),
        Reply.error(400, f"Bad request from key {API_KEY}."),
        Reply.error(503, f"Key {API_KEY} is over quota."),
    ],
    ids=["401", "400", "503"],
)
def test_api_key_appears_in_no_log_and_no_stored_error(
    db, llm, all_logs, commit, run_worker, reply
):
    llm.default = reply

    batch = run_batch(llm_batch(max_attempts=2), commit, run_worker)

    profile = only_profile(batch)
    assert profile.status == Profile.Status.FAILED
    stored = [profile.last_error, *profile.attempt_log.values_list("error", flat=True)]
    assert all(API_KEY not in error for error in stored)
    assert "chat completion failed" in all_logs.text
    assert "HTTP Request: POST" in all_logs.text  # httpx's own log is captured
    assert API_KEY not in all_logs.text


def test_quoted_api_key_is_redacted_from_the_message(db, llm, commit, run_worker):
    llm.default = Reply.error(400, f"Bad request from key {API_KEY}.")

    batch = run_batch(llm_batch(), commit, run_worker)

    assert only_profile(batch).last_error == (
        "The model server rejected the request "
        "(HTTP 400: Bad request from key [redacted].)."
    )


# -- Throughput and pacing -------------------------------------------------------


def test_one_worker_keeps_many_slow_requests_in_flight(
    db, llm, storybatch_settings, capsys
):
    storybatch_settings(LLM_CONCURRENCY=8)
    llm.default = Reply.story("A story.", delay=0.2)
    batch = llm_batch(profiles=50)
    batch_start(batch=batch, source=BatchEvent.Source.COMMAND)

    started = time.monotonic()
    report = batch_process(batch_id=batch.pk, seconds=30)
    elapsed = time.monotonic() - started

    with capsys.disabled():
        print(  # noqa: T201  (the measured figure is this test's report)
            f"\n50 profiles at 200 ms each, concurrency 8: {elapsed:.2f} s "
            f"(one at a time: 10 s)"
        )
    assert report.completed == 50
    assert report.finished_batch
    assert llm.most_in_flight == 8
    assert elapsed < 4.0


def test_requests_per_minute_spaces_the_requests(
    db, llm, storybatch_settings, commit, run_worker
):
    # 1200 a minute: one every 50 ms, however many threads are waiting.
    storybatch_settings(LLM_REQUESTS_PER_MINUTE=1200, LLM_CONCURRENCY=4)

    batch = run_batch(llm_batch(profiles=8), commit, run_worker)

    assert batch.state == Batch.State.FINISHED
    arrivals = sorted(request.arrived for request in llm.requests)
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) == 8
    assert min(gaps) >= 0.035
    assert arrivals[-1] - arrivals[0] >= 7 * 0.05 * 0.9


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)


def test_rate_limiter_books_evenly_spaced_slots():
    clock = FakeClock()
    limiter = RequestRateLimiter(120, clock=clock, sleep=clock.sleep)

    waits = [limiter.wait() for _ in range(4)]

    assert waits == [0.0, 0.5, 1.0, 1.5]
    assert clock.slept == [0.5, 1.0, 1.5]


def test_rate_limiter_does_not_save_up_idle_time_for_a_burst():
    clock = FakeClock()
    limiter = RequestRateLimiter(60, clock=clock, sleep=clock.sleep)
    limiter.wait()

    clock.now += 30
    waits = [limiter.wait(), limiter.wait()]

    assert waits == [0.0, 1.0]


def test_rate_limiter_paces_threads_that_share_it():
    limiter = RequestRateLimiter(600)  # one every 100 ms
    sent = []
    lock = threading.Lock()

    def send():
        limiter.wait()
        with lock:
            sent.append(time.monotonic())

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)

    sent.sort()
    assert len(sent) == 5
    assert sent[-1] - sent[0] >= 0.38


def test_rate_limiter_is_shared_per_server_and_rate_within_the_process():
    first = shared_rate_limiter("http://127.0.0.1:9/v1", 60)

    assert shared_rate_limiter("http://127.0.0.1:9/v1", 60) is first
    assert shared_rate_limiter("http://127.0.0.1:9/v1", 30) is not first
    assert shared_rate_limiter("http://127.0.0.1:9/v1", 0).wait() == 0.0


# -- Classifying answers, without a server ---------------------------------------


def response(status, message=None, *, headers=None, text=None):
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    body = {"error": {"message": message}} if message is not None else {}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("answer", "transient", "retry_after", "message"),
    [
        (
            response(429, "Rate limit reached.", headers={"Retry-After": "7"}),
            True,
            7.0,
            "The model server is rate limiting requests (HTTP 429: Rate limit "
            "reached.).",
        ),
        (
            response(503, headers={"Retry-After": "2.5"}),
            True,
            2.5,
            "The model server could not answer (HTTP 503).",
        ),
        (
            response(502, text="<html>bad gateway</html>"),
            True,
            None,
            "The model server could not answer (HTTP 502: <html>bad gateway</html>).",
        ),
        (
            response(408),
            True,
            None,
            "The model server could not answer (HTTP 408).",
        ),
        (
            response(401, "Invalid key sk-quoted"),
            False,
            None,
            "The model server refused the API key (HTTP 401).",
        ),
        (
            response(404, text="404 page not found"),
            False,
            None,
            "The model server has no chat-completions endpoint at this address "
            "(HTTP 404: 404 page not found); check STORYBATCH_LLM_BASE_URL, which "
            "usually ends in /v1.",
        ),
        (
            httpx.Response(404, json={"error": 'model "x" not found, try pulling it'}),
            False,
            None,
            "Unknown model 'x' (HTTP 404: model \"x\" not found, try pulling it).",
        ),
        (
            httpx.Response(400, json={"object": "error", "message": "too many tokens"}),
            False,
            None,
            "The prompt is too long for the model (HTTP 400: too many tokens).",
        ),
        (
            response(413),
            False,
            None,
            "The prompt is too long for the model (HTTP 413).",
        ),
        (
            response(301, headers={"Location": "https://localhost/v1"}),
            False,
            None,
            "The model server redirected the request (HTTP 301); set "
            "STORYBATCH_LLM_BASE_URL to the address it redirects to.",
        ),
    ],
)
def test_error_answers_are_classified(answer, transient, retry_after, message):
    error = error_for_status(answer, model="x")

    assert (error.transient, error.retry_after) == (transient, retry_after)
    assert error.message == message


def test_401_without_a_key_says_to_set_one():
    error = error_for_status(response(401), model="x", has_api_key=False)

    assert error.message == (
        "The model server wants an API key and none is set: set "
        "STORYBATCH_LLM_API_KEY (HTTP 401)."
    )


def test_long_server_messages_are_shortened_to_one_line():
    error = error_for_status(response(400, "word\n" * 200), model="x")

    assert "\n" not in error.message
    assert len(error.message) < 400
    assert "…" in error.message


NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "30"}, 30.0),
        ({"Retry-After": " 1.5 "}, 1.5),
        ({"Retry-After": "-4"}, 0.0),
        ({"Retry-After": "Tue, 01 Jan 2030 12:00:45 GMT"}, 45.0),
        ({"Retry-After": "Tue, 01 Jan 2030 11:59:00 GMT"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "inf"}, None),
        ({"retry-after-ms": "250", "Retry-After": "1"}, 0.25),
        ({}, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_as_a_date(headers, seconds):
    assert retry_after_seconds(httpx.Headers(headers), now=NOW) == seconds


# -- The generator on its own ----------------------------------------------------


def generator(**options):
    return ChatCompletionGenerator(GeneratorConfig(template="", options=options))


PROFILE = ProfileData(external_id="P1", name="Ada Lovelace", fields={"born": "1815"})


def test_generator_touches_no_database(db, llm, django_assert_num_queries):
    story_generator = generator()
    try:
        with django_assert_num_queries(0):
            story = story_generator.generate(PROFILE)
    finally:
        story_generator.close()

    assert story.text.startswith("A story from: Write a short biography")
    assert (story.prompt_tokens, story.completion_tokens) == (12, 34)


def test_concurrency_comes_from_settings(llm, storybatch_settings):
    storybatch_settings(LLM_CONCURRENCY=5)

    assert generator().concurrency == 5


def test_refused_connection_may_pass(storybatch_settings):
    # A port that was free a moment ago: nothing listens on it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    storybatch_settings(
        LLM_BASE_URL=f"http://127.0.0.1:{port}/v1", LLM_MODEL="m", LLM_API_KEY=""
    )
    story_generator = generator()

    with pytest.raises(GenerationError) as raised:
        story_generator.generate(PROFILE)
    story_generator.close()

    assert raised.value.transient
    assert raised.value.message.startswith("Could not connect to the model server")


def test_usage_missing_from_the_answer_counts_no_tokens(llm):
    llm.default = Reply(body={"choices": [{"message": {"content": " Hello. "}}]})
    story_generator = generator()

    story = story_generator.generate(PROFILE)
    story_generator.close()

    assert (story.text, story.prompt_tokens, story.completion_tokens) == (
        "Hello.",
        0,
        0,
    )


def test_empty_story_at_the_token_limit_is_not_retried(llm):
    llm.default = Reply(
        body={"choices": [{"message": {"content": ""}, "finish_reason": "length"}]}
    )
    story_generator = generator()

    with pytest.raises(GenerationError) as raised:
        story_generator.generate(PROFILE)
    story_generator.close()

    assert not raised.value.transient
    assert "raise STORYBATCH_LLM_MAX_TOKENS" in raised.value.message


# -- System checks ---------------------------------------------------------------


def check_ids(results):
    return [result.id for result in results]


def test_check_warns_when_the_model_is_not_configured(storybatch_settings):
    storybatch_settings(LLM_BASE_URL="http://localhost:8000/v1", LLM_MODEL="")

    results = batch_checks.check_language_model(None)

    assert check_ids(results) == ["batches.W010"]
    assert results[0].hint


def test_check_is_quiet_when_the_model_is_configured(storybatch_settings):
    storybatch_settings(LLM_BASE_URL="http://localhost:8000/v1", LLM_MODEL="m")

    assert batch_checks.check_language_model(None) == []


def test_check_rejects_a_base_url_without_a_scheme(storybatch_settings):
    storybatch_settings(LLM_BASE_URL="localhost:8000/v1", LLM_MODEL="m")

    assert check_ids(batch_checks.check_language_model(None)) == ["batches.E011"]


def test_check_rejects_concurrency_below_one(storybatch_settings):
    storybatch_settings(
        LLM_BASE_URL="http://localhost:8000/v1", LLM_MODEL="m", LLM_CONCURRENCY=0
    )

    results = batch_checks.check_language_model(None)

    assert check_ids(results) == ["batches.E010"]
    assert isinstance(results[0], checks.Error)


def test_check_warns_when_the_rate_limit_queue_outlasts_the_lease(
    storybatch_settings,
):
    # 8 in flight at 6 a minute: the last waits 80 s, plus 60 s for the answer.
    storybatch_settings(
        LLM_BASE_URL="http://localhost:8000/v1",
        LLM_MODEL="m",
        LLM_CONCURRENCY=8,
        LLM_REQUESTS_PER_MINUTE=6,
        LLM_TIMEOUT=60.0,
        LEASE_SECONDS=120.0,
    )

    assert check_ids(batch_checks.check_language_model(None)) == ["batches.W012"]


def test_database_check_warns_about_waiting_llm_batches_without_a_server(
    db, storybatch_settings
):
    storybatch_settings(LLM_BASE_URL="")
    llm_batch(profiles=0)
    llm_batch(profiles=0, state=Batch.State.RUNNING)
    llm_batch(profiles=0, state=Batch.State.FINISHED)
    make_batch()  # a template batch needs no server

    results = batch_checks.check_language_model_batches(None, databases=["default"])

    assert check_ids(results) == ["batches.W011"]
    assert results[0].msg.startswith("2 draft or running batch(es)")


def test_database_check_is_quiet_with_a_server_or_without_a_database(
    db, storybatch_settings
):
    llm_batch(profiles=0)
    storybatch_settings(LLM_BASE_URL="")

    assert batch_checks.check_language_model_batches(None, databases=None) == []
    storybatch_settings(LLM_BASE_URL="http://localhost:8000/v1")
    assert batch_checks.check_language_model_batches(None, databases=["default"]) == []


def test_database_check_is_registered_with_the_database_tag():
    registered = checks.registry.registry.get_checks()

    assert batch_checks.check_language_model_batches in registered
    assert checks.Tags.database in batch_checks.check_language_model_batches.tags


def test_check_is_quiet_when_the_model_is_not_used_at_all(storybatch_settings):
    storybatch_settings(LLM_BASE_URL="", LLM_MODEL="")

    assert batch_checks.check_language_model(None) == []
