"""
Filters read from the query string. Each is a serializer, so that a bad
value answers 400 naming the parameter, and so that the OpenAPI schema lists
the parameters.
"""

from django.db.models import Q
from rest_framework import serializers

from batches.models import Batch, Profile


class QueryFilter(serializers.Serializer):
    @classmethod
    def from_request(cls, request):
        # A plain dict, not the QueryDict: DRF reads a missing boolean in a
        # QueryDict as false, as an HTML form would mean it.
        query = cls(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return query

    def filter_queryset(self, queryset):
        raise NotImplementedError


class BatchFilter(QueryFilter):
    state = serializers.ChoiceField(choices=Batch.State.choices, required=False)
    search = serializers.CharField(
        required=False, max_length=200, help_text="Part of the batch's name."
    )

    def filter_queryset(self, batches):
        data = self.validated_data
        if "state" in data:
            batches = batches.filter(state=data["state"])
        if data.get("search"):
            batches = batches.filter(name__icontains=data["search"])
        return batches


class ProfileFilter(QueryFilter):
    status = serializers.ChoiceField(choices=Profile.Status.choices, required=False)
    has_story = serializers.BooleanField(required=False, allow_null=True, default=None)
    search = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Part of the profile's name, or its whole external id.",
    )

    def filter_queryset(self, profiles):
        data = self.validated_data
        if "status" in data:
            profiles = profiles.filter(status=data["status"])
        if data["has_story"] is not None:
            profiles = profiles.filter(has_story=data["has_story"])
        if data.get("search"):
            # A search by name reads the batch's rows in id order until a page
            # of matches is found: quick when matches are common, a scan of
            # the batch when they are rare.
            profiles = profiles.filter(
                Q(name__icontains=data["search"]) | Q(external_id=data["search"])
            )
        return profiles
