"""Everything under /api/v1/: each app's API package adds its routes (see docs/api.md)."""

from django.urls import include, path

urlpatterns = [
    path("", include("institutions.api.urls")),
    path("", include("badges.api.urls")),
    path("", include("endorsement.api.urls")),
]
