"""Everything under /api/v1/: each app's API package adds its routes (see docs/api.md)."""

from django.urls import include, path, re_path

from config.api import api_not_found

urlpatterns = [
    path("", include("institutions.api.urls")),
    path("", include("badges.api.urls")),
    path("", include("endorsement.api.urls")),
    path("", include("pathways.api.urls")),
    path("", include("pathways.completion_api_urls")),  # completing a pathway (pathways.completion_api)
    # Last: an unknown path answers the JSON error (or redirects a trailing slash away).
    re_path(r"^(?P<path>.*)$", api_not_found),
]
