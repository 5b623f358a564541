"""Validators shared by the models, forms and serializers."""

import ipaddress
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from batches.conf import conf


def address_refusal(address):
    """Why a webhook must not be sent to this address, or "" when it may."""
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return f"The callback host resolves to a forbidden address ({address})."
    private = address.is_private or address.is_loopback or address.is_reserved
    if private and not conf.WEBHOOK_ALLOW_PRIVATE:
        return (
            f"The callback host resolves to a private address ({address}); "
            "set STORYBATCH_WEBHOOK_ALLOW_PRIVATE to allow it."
        )
    return ""


def validate_callback_url(url):
    """Refuse, when a batch is created, what the webhook would refuse to
    call: other schemes, and addresses written as numbers that are not
    allowed. Host names are resolved only when the webhook is sent."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("The callback URL must be an http or https URL.")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return
    refusal = address_refusal(address)
    if refusal:
        raise ValidationError(refusal.replace("resolves to", "is"))
