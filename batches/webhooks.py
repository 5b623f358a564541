"""
The "batch finished" webhook: one signed POST to the batch's callback URL,
retried with backoff until it is delivered or the attempts run out. Every
try is recorded as a WebhookDelivery.

The receiver checks ``X-Storybatch-Signature``: ``sha256=`` and the hex
HMAC-SHA256, keyed with STORYBATCH_WEBHOOK_SECRET, of the timestamp in
``X-Storybatch-Timestamp``, a full stop, and the raw body.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from django.utils import timezone

from batches.conf import conf
from batches.models import Batch, Profile, WebhookDelivery
from batches.validators import address_refusal

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Storybatch-Signature"
TIMESTAMP_HEADER = "X-Storybatch-Timestamp"


def webhook_signature(*, secret, timestamp, body):
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_payload(batch):
    progress = Profile.objects.filter(batch=batch).progress()
    return {
        "event": "batch.finished",
        "batch": {
            "id": batch.pk,
            "name": batch.name,
            "state": batch.state,
            "started_at": batch.started_at.isoformat() if batch.started_at else None,
            "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
            "progress": progress.as_dict(),
        },
    }


def callback_refusal(url):
    """Why the URL must not be called, or "" when it may.

    Callback URLs come from users, so a webhook could be aimed at the
    service's own network. Link-local addresses (cloud metadata services)
    are always refused; loopback and private ones unless
    STORYBATCH_WEBHOOK_ALLOW_PRIVATE is set. The address is checked when the
    request is made, not when the URL was saved.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "The callback URL must be an http or https URL with a host."
    try:
        infos = socket.getaddrinfo(
            parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError) as error:
        return f"The callback host could not be resolved: {error}."
    for info in infos:
        refusal = address_refusal(ipaddress.ip_address(info[4][0]))
        if refusal:
            return refusal
    return ""


def _post(url, body, headers):
    """(status code, error text) of one try."""
    try:
        response = httpx.post(
            url,
            content=body,
            headers=headers,
            timeout=conf.WEBHOOK_TIMEOUT,
            follow_redirects=False,
        )
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"The receiver answered HTTP {response.status_code}."


def webhook_deliver(*, batch_id, attempt):
    """Try once; on failure, schedule the next try. Never sends twice once a
    delivery has succeeded."""
    from batches.tasks import deliver_batch_webhook

    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or not batch.callback_url:
        return
    if batch.webhook_deliveries.filter(delivered=True).exists():
        return

    refusal = callback_refusal(batch.callback_url)
    if not conf.WEBHOOK_SECRET:
        refusal = (
            "STORYBATCH_WEBHOOK_SECRET is not set, so the request could not be signed."
        )
    if refusal:
        WebhookDelivery.objects.create(
            batch=batch,
            url=batch.callback_url,
            attempt=attempt,
            error=f"Not sent: {refusal}",
        )
        logger.warning("webhook not sent batch=%s reason=%r", batch_id, refusal)
        return

    body = json.dumps(webhook_payload(batch), separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Storybatch-Webhook/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(
            secret=conf.WEBHOOK_SECRET, timestamp=timestamp, body=body
        ),
    }
    status_code, error = _post(batch.callback_url, body, headers)
    delivered = not error
    WebhookDelivery.objects.create(
        batch=batch,
        url=batch.callback_url,
        attempt=attempt,
        status_code=status_code,
        delivered=delivered,
        error=error,
    )
    logger.info(
        "webhook attempt batch=%s attempt=%s delivered=%s status=%s",
        batch_id,
        attempt,
        delivered,
        status_code,
    )
    if delivered or attempt >= conf.WEBHOOK_ATTEMPTS:
        return

    delay = min(
        conf.BACKOFF_MAX_SECONDS, conf.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
    )
    deliver_batch_webhook.using(
        run_after=timezone.now() + timedelta(seconds=delay)
    ).enqueue(batch_id=batch_id, attempt=attempt + 1)
