"""/registry/<uuid>/image.png: the programme's badge image on its registry page, greyed, crossed out
and banded (badges.award_images) while its endorsement is suspended, revoked or expired, so that
nobody takes the picture of a programme no longer endorsed for a valid one. The standing is the
registry's (the newest snapshot, an active endorsement past its end counted as expired)."""

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
