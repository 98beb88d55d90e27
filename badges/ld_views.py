"""Machine-readable public documents: DID documents, Achievements, EndorsementCredentials and
status lists. Each answers JSON-LD (`application/ld+json` or a `.json` URL); an Achievement asked
for as HTML redirects to its registry page."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from badges import credentials as vc
from badges.models import Programme, StatusList
from endorsement.credentials import programme_achievement
from endorsement.models import Endorsement
from institutions.keys import did_document
from institutions.models import MembershipState, Organisation

LD_JSON = "application/ld+json"


def _json_response(request: HttpRequest, document: dict[str, Any], *, content_type: str = LD_JSON,
                   etag: str | None = None, max_age: int = 300) -> HttpResponse:
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    etag = f'"{etag or hashlib.sha256(body).hexdigest()}"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _wants_json(request: HttpRequest) -> bool:
    """Accept prefers JSON-LD (or JSON) to HTML; no Accept at all, or */*, is a browser's: HTML."""
    return request.get_preferred_type(["text/html", LD_JSON, "application/json"]) in (LD_JSON, "application/json")


@require_GET
def body_did(request: HttpRequest) -> HttpResponse:
    body = get_object_or_404(Organisation, is_certification_body=True)
    return _json_response(request, did_document(body), content_type="application/did+ld+json")


@require_GET
def organisation_did(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = get_object_or_404(Organisation, slug=slug, is_certification_body=False)
    if organisation.membership == MembershipState.APPLIED or organisation.membership == MembershipState.REJECTED:
        raise Http404("No such issuer.")
    return _json_response(request, did_document(organisation), content_type="application/did+ld+json")


@require_GET
def achievement(request: HttpRequest, public_id: str, as_json: bool = False, version: int = 1,
                language: str | None = None) -> HttpResponse:
    """One version's Achievement as a JSON-LD document of its own (`/achievements/<id>` is version 1,
    `/achievements/<id>/v<n>` a revision: every version endorsed once stays dereferenceable), with
    the `@context` of the credentials it is embedded in (VC 2.0, OB 3.0.3), so that it expands to the
    same quads as there. Chosen by Accept on the bare URL (hence `Vary: Accept`); the `.json` URL is
    always JSON-LD. `/<language>` after either is the edition in the programme's other language,
    which exists when the Achievement names it in `related`."""
    programme = get_object_or_404(Programme, public_id=public_id)
    version = int(version)
    if version < 2 and request.resolver_match.url_name.startswith("achievement-version"):
        raise Http404("Version 1 is at the programme's own Achievement URL.")
    document = programme_achievement(programme.pk, version, language)
    if document is None:
        raise Http404("This programme has no endorsed Achievement.")
    if not (as_json or _wants_json(request)):
        response = redirect(reverse("registry:programme", args=[programme.public_id]))
    else:
        response = _json_response(request, {"@context": vc.ob_contexts(with_schema=False), **document})
    if not as_json:
        patch_vary_headers(response, ["Accept"])
    return response


@require_GET
def endorsement_credential(request: HttpRequest, public_id: str) -> HttpResponse:
    endorsement = get_object_or_404(Endorsement, public_id=public_id, credential__isnull=False)
    return _json_response(request, endorsement.credential, content_type="application/vc+ld+json")


@require_GET
def status_list(request: HttpRequest, slug: str, purpose: str, number: int) -> HttpResponse:
    status = get_object_or_404(
        StatusList, organisation__slug=slug, purpose=purpose, number=number, credential__isnull=False
    )
    return _json_response(request, status.credential, content_type="application/vc+ld+json",
                          etag=status.etag, max_age=60)
