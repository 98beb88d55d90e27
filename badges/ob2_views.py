"""The Open Badges 2.0 hosted mirror (badges.ob2): JSON-LD documents with the OB 2.0 context, and
the baked OB 2.0 PNG. Public, read-only, built on each request from the live state (no copy)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from badges import ob2
from badges.award_images import award_png_ob2, programme_png
from badges.ld_views import _json_response
from badges.models import Programme
from endorsement.models import Endorsement
from institutions.models import Organisation

# The mirror reads the rows the status lists are computed from: a revocation must show at once, so
# a cache may keep a copy but has to revalidate it (the ETag answers 304 when nothing changed).
MAX_AGE = 0


def _organisation(slug: str) -> Organisation:
    organisation = get_object_or_404(Organisation, slug=slug)
    if not ob2.issuer_public(organisation):
        raise Http404("No such issuer.")
    return organisation


@require_GET
def issuer(request: HttpRequest, slug: str) -> HttpResponse:
    return _json_response(request, ob2.issuer_document(_organisation(slug)), max_age=MAX_AGE)


@require_GET
def revocations(request: HttpRequest, slug: str) -> HttpResponse:
    return _json_response(request, ob2.revocation_list_document(_organisation(slug)), max_age=MAX_AGE)


@require_GET
def badge_class(request: HttpRequest, public_id: Any, version: int = 1) -> HttpResponse:
    programme = get_object_or_404(Programme.objects.select_related("organisation"), public_id=public_id)
    version = int(version)
    if version < 2 and request.resolver_match.url_name == "ob2-badgeclass-version":
        raise Http404("Version 1 is at the programme's own BadgeClass URL.")
    document = ob2.badge_class_document(programme, version)
    if document is None:
        raise Http404("This programme version has no endorsed BadgeClass.")
    return _json_response(request, document, max_age=MAX_AGE)


@require_GET
def badge_class_image(request: HttpRequest, public_id: Any) -> HttpResponse:
    programme = get_object_or_404(Programme.objects.filter(endorsements__credential__isnull=False).distinct(),
                                  public_id=public_id)
    response = HttpResponse(programme_png(programme, None), content_type="image/png")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def endorsement(request: HttpRequest, public_id: Any) -> HttpResponse:
    found = get_object_or_404(Endorsement.objects.select_related("programme"), public_id=public_id)
    document = ob2.endorsement_document(found)
    if document is None:
        raise Http404("This endorsement is not signed yet.")
    return _json_response(request, document, max_age=MAX_AGE)


def _award(public_id: Any) -> Any:
    award = ob2.award_for_assertion(public_id)
    if award is None:
        raise Http404("No such badge.")
    return award


@require_GET
def assertion(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The hosted Assertion; a revoked one answers 410 Gone with `revoked: true` (OB 2.0 hosted
    verification) and its reason, and is in its issuer's RevocationList."""
    award = _award(public_id)
    response = _json_response(request, ob2.assertion_document(award), max_age=MAX_AGE)
    if award.revoked_at is not None and response.status_code == 200:
        response.status_code = 410
    return response


@require_GET
def assertion_png(request: HttpRequest, public_id: Any) -> HttpResponse:
    award = _award(public_id)
    response = HttpResponse(award_png_ob2(award, ob2.assertion_document(award)), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="badge-{public_id}-ob2.png"'
    response["Cache-Control"] = "no-cache"
    return response
