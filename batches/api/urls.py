"""The API's routes, mounted under /api/ by batchsite.urls."""

from django.urls import re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from batches.api.views import (
    BatchViewSet,
    ProfileViewSet,
    TokenCreateView,
    csrf_token,
    not_found,
)

app_name = "api"


class ApiRouter(DefaultRouter):
    """Every route answers with or without its trailing slash, so that no
    request is redirected: a browser does not follow a redirect on a
    preflight, and a redirected POST loses its body. No format suffixes
    either: the export's file format is a query parameter."""

    include_format_suffixes = False

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = ApiRouter()
router.register("batches", BatchViewSet, basename="batch")
router.register(
    r"batches/(?P<batch_id>[0-9]+)/profiles", ProfileViewSet, basename="batch-profile"
)

urlpatterns = [
    re_path(r"^auth/token/?$", TokenCreateView.as_view(), name="auth-token"),
    re_path(r"^auth/csrf/?$", csrf_token, name="auth-csrf"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(
        r"^docs/?$", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"
    ),
    *router.urls,
    # [\s\S], not ".": a path may hold a newline, and must still answer JSON.
    re_path(r"^(?P<path>[\s\S]*)$", not_found, name="not-found"),
]
