"""How the API answers the domain's errors."""

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.views import exception_handler as drf_exception_handler

from batches.exceptions import StateConflict


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The action does not fit the batch's state."
    default_code = "state_conflict"


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The upload is too large."
    default_code = "too_large"


def exception_handler(exc, context):
    """DRF's handler, which also answers a StateConflict from the service
    layer with 409 and its reason, and Django's refusals of an oversized
    body in JSON, as the rest of the API answers, instead of Django's HTML
    error page."""
    if isinstance(exc, StateConflict):
        exc = Conflict(str(exc))
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} "
            "bytes, the limit for a body that is not a file upload "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE); send many profiles as a file."
        )
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = ParseError(str(exc))
    return drf_exception_handler(exc, context)
