"""The public audit checkpoints (endorsement.checkpoints): JSON anyone may download and keep.

/audit/checkpoints/latest.json   the newest checkpoint
/audit/checkpoints/<seq>.json    the checkpoint of a given chain length
/audit/checkpoints.json          every checkpoint, newest first, 500 a page (`?before=<seq>`)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from endorsement.checkpoints import checkpoint_from_row
from endorsement.models import AuditCheckpoint

PAGE = 500


def _response(request: HttpRequest, document: dict[str, Any], *, max_age: int) -> HttpResponse:
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["ETag"] = f'"{hashlib.sha256(body).hexdigest()}"'
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def checkpoint_latest(request: HttpRequest) -> HttpResponse:
    row = AuditCheckpoint.objects.order_by("-seq").first()
    if row is None:
        raise Http404(_("No audit checkpoint has been published yet."))
    return _response(request, checkpoint_from_row(row).document(), max_age=60)


@require_GET
def checkpoint_at(request: HttpRequest, seq: int) -> HttpResponse:
    row = get_object_or_404(AuditCheckpoint, seq=seq)
    # A published checkpoint never changes.
    return _response(request, checkpoint_from_row(row).document(), max_age=86400)


@require_GET
def checkpoint_list(request: HttpRequest) -> HttpResponse:
    rows = AuditCheckpoint.objects.order_by("-seq")
    before = request.GET.get("before")
    if before is not None:
        if not before.isdigit() or len(before) > 19:
            return JsonResponse(
                {"detail": _("“before” must be a whole number: the seq of a checkpoint.")}, status=400
            )
        rows = rows.filter(seq__lt=int(before))
    page = list(rows[: PAGE + 1])
    more = len(page) > PAGE
    page = page[:PAGE]
    next_url = None
    if more:
        next_url = request.build_absolute_uri(f"{reverse('audit-checkpoints')}?before={page[-1].seq}")
    return _response(
        request,
        {"checkpoints": [checkpoint_from_row(row).document() for row in page], "next": next_url},
        max_age=60,
    )
