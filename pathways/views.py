"""Public pages and documents of pathways: the Achievement (JSON-LD) and the registry page."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_safe

from badges import credentials as vc
from badges.ld_views import _json_response, _wants_json
from endorsement.registry import registry_current
from pathways.achievements import published_pathway_achievement
from pathways.diagram import pathway_diagram
from pathways.models import Pathway


@require_GET
def pathway_achievement(request: HttpRequest, public_id: str, as_json: bool = False, version: int = 1,
                        language: str | None = None) -> HttpResponse:
    """One version's pathway Achievement, as programmes' are served (badges.ld_views.achievement)."""
    pathway = get_object_or_404(Pathway, public_id=public_id)
    version = int(version)
    if version < 2 and request.resolver_match.url_name.startswith("pathway-achievement-version"):
        raise Http404("Version 1 is at the pathway's own Achievement URL.")
    document = published_pathway_achievement(pathway, version, language)
    if document is None:
        raise Http404("This pathway has no endorsed Achievement.")
    if not (as_json or _wants_json(request)):
        response = redirect(reverse("registry:pathway", args=[pathway.public_id]))
    else:
        response = _json_response(request, {"@context": vc.ob_contexts(with_schema=False), **document})
    if not as_json:
        patch_vary_headers(response, ["Accept"])
    return response


def _entry_or_404(public_id: Any) -> dict[str, Any]:
    registry = registry_current()
    entry = next((p for p in (registry.pathways if registry else []) if p["id"] == str(public_id)), None)
    if entry is None:
        raise Http404("No such pathway in the registry.")
    return entry


@require_safe
def registry_pathway(request: HttpRequest, public_id: Any) -> HttpResponse:
    """A published pathway: what it is, its endorsement, and its components and rules drawn as an
    inline SVG (server-side; a text alternative and the same structure as a list beside it)."""
    entry = _entry_or_404(public_id)
    from config.i18n import visitor_language

    language = visitor_language()
    diagram = pathway_diagram(entry["pathway"], language)
    return render(request, "registry/pathway.html", {"entry": entry, "diagram": diagram, "language": language})
