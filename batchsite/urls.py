from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # The site has no pages of its own: staff start in the admin.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # The browsable API's log-in and log-out pages.
    path("api/auth/", include("rest_framework.urls")),
    path("api/", include("batches.api.urls")),
]
