from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # The browsable API's log-in and log-out pages.
    path("api/auth/", include("rest_framework.urls")),
    path("api/", include("batches.api.urls")),
]
