"""/registry/<uuid>/image.png: the programme's badge image on its registry page, greyed, crossed out
and banded (badges.award_images) while its endorsement is suspended, revoked or expired, so that
nobody takes the picture of a programme no longer endorsed for a valid one. The standing is the
registry's (the newest snapshot, an active endorsement past its end counted as expired).

/registry/organisations/<slug>/logo: an organisation's logo (the body's, or one the registry lists),
the `logo_uri` of the OpenID Federation statements (endorsement.trust). Stored checked (a PNG, or an
SVG written back out without scripts or outside references: institutions.services), and served with
a Content-Security-Policy that forbids scripts and loads anyway, should a browser open it as a page."""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from badges.award_images import MARKS, programme_png
from badges.models import Programme
from endorsement.registry import registry_current
from institutions.models import Organisation

MAX_AGE = 60


@require_safe
def programme_image_png(request: HttpRequest, public_id: Any) -> HttpResponse:
    registry = registry_current()
    item = registry.by_id.get(str(public_id)) if registry is not None else None
    programme = Programme.objects.filter(public_id=public_id).first() if item is not None else None
    if programme is None:
        raise Http404
    state = str(item.standing(timezone.now()))
    body = programme_png(programme, state if state in MARKS else None)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag) or HttpResponse(body, content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


LOGO_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@require_safe
def organisation_logo(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None or not organisation.logo:
        raise Http404
    if not organisation.is_certification_body:
        registry = registry_current()
        if registry is None or slug not in registry.organisations_by_slug:
            raise Http404
    return logo_response(request, organisation, cache_control="public, max-age=3600")


def logo_response(request: HttpRequest, organisation: Organisation, *, cache_control: str) -> HttpResponse:
    """The organisation's stored logo (404 without one) with its ETag, under a CSP that runs nothing:
    the registry's public address, and the portal's preview for its staff (institutions.organisation_views)."""
    kind = organisation.logo.name.rpartition(".")[2].lower() if organisation.logo else ""
    if kind not in LOGO_TYPES:
        raise Http404
    with organisation.logo.open("rb") as stored:
        body = stored.read()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag) or HttpResponse(body, content_type=LOGO_TYPES[kind])
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
    return response
