"""
The OpenAPI schema's account of errors. Each view documents what it answers
when all goes well, and the answers particular to it (409, 413); the errors
any endpoint may give, from authentication, permissions, validation, lookup
and throttling, are added here from what the view is, so that the schema
lists every status a client can receive.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from batches.api.permissions import CanOperateBatches

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
BODY_METHODS = ("POST", "PUT", "PATCH")
# Views whose query string is read, and so may be refused.
QUERY_ACTIONS = ("list", "events", "export")

ERROR = inline_serializer("Error", {"detail": serializers.CharField()})
VALIDATION_ERROR = inline_serializer(
    "ValidationError",
    {
        "non_field_errors": serializers.ListField(
            child=serializers.CharField(), required=False
        )
    },
)


class ErrorsAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        # drf-spectacular builds the documented answers here, from the view
        # and from any @extend_schema; adding to them keeps both.
        responses = super()._get_response_bodies(direction)
        for code, response in self.error_responses().items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    response, str(code), direction=direction
                )
        return responses

    def error_responses(self):
        permissions = self.view.get_permissions()
        needs_login = any(not isinstance(p, AllowAny) for p in permissions)
        unsafe = self.method in UNSAFE_METHODS
        errors = {}
        action = getattr(self.view, "action", None)
        # A DELETE has no body, whatever serializer its view names.
        has_body = (
            self.method in BODY_METHODS and self.get_request_serializer() is not None
        )
        if has_body or action in QUERY_ACTIONS:
            errors[400] = OpenApiResponse(
                VALIDATION_ERROR,
                description="Bad input: each field (or parameter) at fault, "
                "with what is wrong with it.",
            )
        if needs_login:
            errors[401] = OpenApiResponse(ERROR, description="Not logged in.")
        if needs_login and (
            unsafe or any(isinstance(p, CanOperateBatches) for p in permissions)
        ):
            errors[403] = OpenApiResponse(
                ERROR,
                description="Missing the permission, or (with the session) the "
                "CSRF token.",
            )
        # An id in the path may name nothing; a page number may be past the
        # last page.
        if "{" in self.path or action == "list":
            errors[404] = OpenApiResponse(ERROR, description="No such batch or page.")
        if unsafe:
            errors[429] = OpenApiResponse(
                ERROR,
                description="Too many changes in too short a time; the "
                "Retry-After header says how many seconds to wait.",
            )
        return errors
