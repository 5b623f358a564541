"""The "batch finished" webhook: signed, retried, recorded, sent once."""

import json
import time

import pytest

from batches.models import Batch, BatchEvent, Profile, WebhookDelivery
from batches.processing import batch_finish_if_done
from batches.webhooks import callback_refusal, webhook_deliver, webhook_signature
from tests.factories import make_batch
from tests.receivers import WebhookReceiver

pytestmark = pytest.mark.django_db

SECRET = "test-webhook-secret"


@pytest.fixture
def webhook_settings(storybatch_settings):
    storybatch_settings(
        WEBHOOK_SECRET=SECRET, WEBHOOK_ALLOW_PRIVATE=True, BACKOFF_BASE_SECONDS=0.01
    )


def done_batch(url):
    batch = make_batch(profiles=2, state=Batch.State.RUNNING, callback_url=url)
    Profile.objects.filter(batch=batch).update(
        status=Profile.Status.COMPLETED, story="s"
    )
    return batch


def run_until_idle(run_worker, rounds=20):
    for _ in range(rounds):
        run_worker()
        time.sleep(0.05)


def test_finishing_sends_one_signed_webhook(webhook_settings, commit, run_worker):
    with WebhookReceiver() as receiver:
        batch = done_batch(receiver.url)
        with commit():
            assert batch_finish_if_done(batch.pk)
        with commit():
            assert not batch_finish_if_done(batch.pk)
        run_until_idle(run_worker, rounds=3)

    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    expected = webhook_signature(
        secret=SECRET, timestamp=headers["X-Storybatch-Timestamp"], body=body
    )
    assert headers["X-Storybatch-Signature"] == expected
    payload = json.loads(body)
    assert payload["event"] == "batch.finished"
    assert payload["batch"]["id"] == batch.pk
    assert payload["batch"]["progress"]["completed"] == 2
    delivery = WebhookDelivery.objects.get(batch=batch)
    assert (delivery.attempt, delivery.status_code, delivery.delivered) == (
        1,
        200,
        True,
    )


def test_a_failed_delivery_is_retried_and_recorded(
    webhook_settings, commit, run_worker
):
    with WebhookReceiver(statuses=[500, 503, 200]) as receiver:
        batch = done_batch(receiver.url)
        with commit():
            batch_finish_if_done(batch.pk)
        run_until_idle(run_worker)

    deliveries = list(
        WebhookDelivery.objects.filter(batch=batch).values_list(
            "attempt", "status_code", "delivered"
        )
    )
    assert deliveries == [(1, 500, False), (2, 503, False), (3, 200, True)]
    assert len(receiver.requests) == 3


def test_delivery_gives_up_after_the_configured_attempts(
    webhook_settings, storybatch_settings, commit, run_worker
):
    storybatch_settings(WEBHOOK_ATTEMPTS=2)
    with WebhookReceiver(statuses=[500]) as receiver:
        batch = done_batch(receiver.url)
        with commit():
            batch_finish_if_done(batch.pk)
        run_until_idle(run_worker)

    assert WebhookDelivery.objects.filter(batch=batch).count() == 2
    assert not WebhookDelivery.objects.filter(delivered=True).exists()


def test_a_delivered_webhook_is_never_sent_again(webhook_settings):
    with WebhookReceiver() as receiver:
        batch = done_batch(receiver.url)
        webhook_deliver(batch_id=batch.pk, attempt=1)
        webhook_deliver(batch_id=batch.pk, attempt=2)

    assert len(receiver.requests) == 1


def test_without_a_secret_nothing_is_sent_and_the_reason_is_kept(storybatch_settings):
    storybatch_settings(WEBHOOK_SECRET="", WEBHOOK_ALLOW_PRIVATE=True)
    with WebhookReceiver() as receiver:
        batch = done_batch(receiver.url)
        webhook_deliver(batch_id=batch.pk, attempt=1)

    assert receiver.requests == []
    assert "STORYBATCH_WEBHOOK_SECRET is not set" in WebhookDelivery.objects.get().error


@pytest.mark.parametrize(
    ("url", "allow_private", "refused"),
    [
        ("http://169.254.169.254/latest/meta-data", True, "forbidden address"),
        ("http://127.0.0.1:9/hook", False, "private address"),
        ("http://127.0.0.1:9/hook", True, ""),
        ("ftp://127.0.0.1/hook", True, "http or https"),
    ],
)
def test_callbacks_to_internal_addresses_are_refused(
    storybatch_settings, url, allow_private, refused
):
    storybatch_settings(WEBHOOK_ALLOW_PRIVATE=allow_private)

    reason = callback_refusal(url)

    assert (refused in reason) if refused else reason == ""


def test_finishing_is_recorded_in_the_history():
    batch = done_batch("")

    batch_finish_if_done(batch.pk)

    event = BatchEvent.objects.get(batch=batch)
    assert (event.action, event.source) == ("finished", "worker")
    assert event.details["completed"] == 2


@pytest.mark.parametrize(
    ("url", "allow_private", "refused"),
    [
        ("http://169.254.169.254/latest", True, "forbidden address"),
        ("http://10.0.0.1/hook", False, "private address"),
        ("http://10.0.0.1/hook", True, ""),
        ("http://receiver.example/hook", False, ""),
        ("ftp://receiver.example/hook", False, "http or https"),
    ],
)
def test_callback_urls_are_checked_when_a_batch_is_made(
    storybatch_settings, url, allow_private, refused
):
    from django.core.exceptions import ValidationError

    from batches.validators import validate_callback_url

    storybatch_settings(WEBHOOK_ALLOW_PRIVATE=allow_private)

    if refused:
        with pytest.raises(ValidationError, match=refused):
            validate_callback_url(url)
    else:
        validate_callback_url(url)
