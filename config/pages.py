"""What the HTML views share in answering a service's refusal: `NotFound` becomes the 404 page and
`NotPermitted` the 403 page (the API maps them in config.api); any other refusal is the view's to
show on its form (`institutions.forms.add_service_errors`)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from config.errors import DomainError, NotFound, NotPermitted


def raise_as_http(error: DomainError) -> None:
    """Raise the 404 or 403 a page answers for this refusal; return for any other kind."""
    if isinstance(error, NotFound):
        raise Http404(error.message) from error
    if isinstance(error, NotPermitted):
        raise PermissionDenied(error.message) from error
