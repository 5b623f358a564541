"""Rate limits for the requests that change something."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class MutationRateThrottle(SimpleRateThrottle):
    """Counts each user's (or, before login, each address's) POST, PUT,
    PATCH and DELETE requests against the "mutations" rate; reads are free.

    The counts live in Django's default cache: with the default local-memory
    cache each server process counts on its own, so the real limit is the
    rate times the number of processes.
    """

    scope = "mutations"

    def __init__(self):
        # The rate is read per request rather than once at import time, so
        # that a changed setting takes effect (and tests can change it).
        pass

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True

        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
