"""The archived copy of an evidence item, at its unguessable URL (badges.archive).

200 with the stored bytes and the Memento headers of RFC 7089 (`Memento-Datetime`, `Link` to the
original and to itself as a memento), `Repr-Digest` (RFC 9530) and `X-Robots-Tag: noindex`; never
listed anywhere. Served as inert data: `nosniff`, a sandboxing CSP, a download for zip and WARC.
A withdrawn copy answers 410 Gone with its tombstone; an unknown token 404.
"""

from __future__ import annotations

import base64
import hashlib

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header, http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from badges.archive import WARC_MEDIA_TYPE, copy_for_token, copy_read, copy_url
from badges.models import ArchivedEvidence
from config.errors import NotFound

_DOWNLOAD = {"application/zip": ".zip", WARC_MEDIA_TYPE: ".warc"}


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _memento(response: HttpResponse, copy: ArchivedEvidence) -> None:
    here = copy_url(copy.token)
    when = http_date(copy.taken_at.timestamp())
    response["Memento-Datetime"] = when
    original = copy.original_url or here  # an upload has no other original than itself
    response["Link"] = f'<{original}>; rel="original", <{here}>; rel="memento"; datetime="{when}"'


def _filename(copy: ArchivedEvidence) -> str:
    name = copy.filename or f"evidence{_DOWNLOAD.get(copy.media_type, '')}"
    return "".join(c for c in name if c.isprintable() and c not in '"\\;')[:150] or "evidence"


@require_safe
def evidence_copy(request: HttpRequest, token: str) -> HttpResponse:
    try:
        copy = copy_for_token(token)
    except NotFound as error:
        return _private(HttpResponse(error.message, status=404, content_type="text/plain; charset=utf-8"))
    if copy.withdrawn_at is not None:
        text = _("This archived evidence was withdrawn on %(when)s (%(reason)s). Its digest was %(digest)s.") % {
            "when": f"{copy.withdrawn_at:%Y-%m-%d %H:%M} UTC", "reason": copy.get_withdrawal_reason_display(),
            "digest": copy.digest_sri}
        response = _private(HttpResponse(text, status=410, content_type="text/plain; charset=utf-8"))
        _memento(response, copy)
        return response
    data = copy_read(copy)
    if data is None:
        return _private(HttpResponse(_("The bytes of this archived evidence are missing from the archive."),
                                     status=404, content_type="text/plain; charset=utf-8"))
    media_type = copy.media_type + ("; charset=utf-8" if copy.media_type == "text/plain" else "")
    response = _private(HttpResponse(data, content_type=media_type))
    _memento(response, copy)
    response["Repr-Digest"] = "sha-384=:" + base64.b64encode(hashlib.sha384(data).digest()).decode() + ":"
    response["Content-Disposition"] = content_disposition_header(copy.media_type in _DOWNLOAD, _filename(copy))
    return response
