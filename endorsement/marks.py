"""The endorsement mark: an SVG an organisation puts on its own site, linking to the programme's
registry page and showing the endorsement's standing as the registry has it now.

`/registry/<uuid>/mark.svg` is drawn from the newest snapshot on each request (cached by clients
for only a minute, so a suspension shows within minutes of the refresh); `/registry/<uuid>/mark.html`
is the HTML snippet to copy. Every text in the SVG is escaped and stripped of the control characters
XML forbids, and the SVG holds no script, link or external reference.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.html import escape as html_escape
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_safe

from endorsement.registry import registry_current

WIDTH, HEIGHT = 360, 104
MAX_AGE = 60
COLOURS = {  # all meet WCAG AA against white (band text is white on these)
    "active": "#14532d",
    "suspended": "#6b4400",
    "revoked": "#8a1111",
    "expired": "#8a1111",
}
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    """Escaped for XML text and attribute values; characters XML forbids are dropped."""
    cleaned = _XML_FORBIDDEN.sub("", str(value or ""))
    return (cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))


def _em(char: str) -> float:
    """A generous estimate of a character's advance in em, in a bold sans-serif (wide characters 1 em)."""
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 1.0
    if char == " ":
        return 0.3
    if char in "MWmw@%":
        return 0.95
    if char.isupper() or char.isdigit():
        return 0.75
    if char in "fijlrt.,:;'!|()[]-":
        return 0.4
    return 0.62


def _fit(text: str, width: float, size: float) -> tuple[str, bool]:
    """`text` cut with an ellipsis to fit about `width` px at `size` px (estimated per character), and
    whether it was cut. The estimate errs wide, so a text left whole fits in any usual font."""
    text = " ".join(str(text or "").split())
    if sum(_em(char) for char in text) * size <= width:
        return text, False
    room, used, out = width - _em("…") * size, 0.0, []
    for char in text:
        used += _em(char) * size
        if used > room:
            break
        out.append(char)
    return "".join(out).rstrip() + "…", True


def _line(x: int, y: int, size: int, text: str, width: float, bold: bool = False) -> str:
    """One line of the mark's text. A cut line is also given `textLength`, so that the browser fits
    it to the room exactly whatever font it uses: never clipped by the frame."""
    shown, cut = _fit(text, width, size)
    fit = f' textLength="{width:g}" lengthAdjust="spacingAndGlyphs"' if cut else ""
    weight = ' font-weight="bold"' if bold else ""
    return f'<text x="{x}" y="{y}" font-size="{size}"{weight}{fit}>{_text(shown)}</text>'


def _lang(request: HttpRequest) -> str:
    return "ja" if request.GET.get("lang") == "ja" else "en"


def _names(entry: dict[str, Any], lang: str) -> tuple[str, str]:
    programme = entry["programme"]
    endorser = entry["endorsement"].get("endorser") or {}
    if lang == "ja":
        return (programme.get("name_ja") or programme.get("name_en") or "",
                endorser.get("name_ja") or endorser.get("name") or "")
    return programme.get("name_en") or programme.get("name_ja") or "", endorser.get("name") or ""


def _date(iso_day: str, lang: str) -> str:
    """2027-12-01 as a reader of `lang` writes it: 2027-12-01, or 2027年12月1日."""
    if lang != "ja":
        return iso_day
    try:
        year, month, day = (int(part) for part in iso_day.split("-"))
    except ValueError:
        return iso_day
    return f"{year}年{month}月{day}日"


def _standing_word(state: str) -> str:
    return {"active": _("ACTIVE"), "suspended": _("SUSPENDED"), "revoked": _("REVOKED"),
            "expired": _("EXPIRED")}.get(state, state.upper())


def mark_svg_text(entry: dict[str, Any], state: str, *, lang: str = "en") -> str:
    """The mark of one registry entry in the standing `state`."""
    with translation.override(lang):
        programme, body = _names(entry, lang)
        until = _date(entry["endorsement"]["valid_until"][:10], lang)
        endorsed_by = _("Endorsed by %(body)s") % {"body": body}
        word = _standing_word(state)
        # "ACTIVE · until …": the band's word already says it is valid (in Japanese, 有効 once).
        detail = pgettext("endorsement mark", "until %(date)s") % {"date": until} if state == "active" \
            else _("not in force")
        title = f"{endorsed_by}: {programme} — {word} ({detail})"
    colour = COLOURS.get(state, COLOURS["revoked"])
    band_y = HEIGHT - 34
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="mark-title" lang="{lang}">',
        f'<title id="mark-title">{_text(title)}</title>',
        f'<rect x="1" y="1" width="{WIDTH - 2}" height="{HEIGHT - 2}" rx="6" fill="#ffffff" '
        f'stroke="{colour}" stroke-width="2"/>',
        '<g font-family="system-ui, -apple-system, \'Segoe UI\', \'Hiragino Sans\', \'Noto Sans JP\', '
        'Meiryo, sans-serif" fill="#1b1b1b">',
        _line(14, 22, 12, endorsed_by, WIDTH - 28),
        _line(14, 46, 16, programme, WIDTH - 28, bold=True),
        "</g>",
        f'<rect x="2" y="{band_y}" width="{WIDTH - 4}" height="32" rx="4" fill="{colour}"/>',
    ]
    if state != "active":  # hatching: not only the colour tells that it is not in force
        lines.append(f'<path d="M2 {band_y + 32} L34 {band_y} M20 {band_y + 32} L52 {band_y}" '
                     'stroke="#ffffff" stroke-width="3" stroke-opacity="0.5"/>')
    lines += [
        f'<text x="{62 if state != "active" else 14}" y="{band_y + 21}" font-size="14" fill="#ffffff" '
        'font-family="system-ui, sans-serif">'
        f'<tspan font-weight="bold">{_text(word)}</tspan> · {_text(detail)}</text>',
        "</svg>",
    ]
    return "\n".join(lines) + "\n"


def mark_snippet(entry: dict[str, Any], *, lang: str = "en") -> str:
    """The HTML an organisation copies onto its own site: the mark, linking to the registry page."""
    with translation.override(lang):
        programme, body = _names(entry, lang)
        alt = _("%(programme)s: endorsed by %(body)s — current standing in the registry") % {
            "programme": programme, "body": body}
    src = entry["links"]["mark_svg"] + ("?lang=ja" if lang == "ja" else "")
    return (f'<a href="{html_escape(entry["url"])}"><img src="{html_escape(src)}" alt="{html_escape(alt)}" '
            f'width="{WIDTH}" height="{HEIGHT}"></a>')


def _entry_and_state(public_id: Any, now: datetime) -> tuple[dict[str, Any], str]:
    registry = registry_current()
    item = registry.by_id.get(str(public_id)) if registry is not None else None
    if item is None:
        raise Http404
    return item.entry, item.standing(now)


def _served(request: HttpRequest, body: str, content_type: str) -> HttpResponse:
    etag = '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag) or HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # other sites embed it
    return response


@require_safe
def mark_svg(request: HttpRequest, public_id: Any) -> HttpResponse:
    entry, state = _entry_and_state(public_id, timezone.now())
    response = _served(request, mark_svg_text(entry, state, lang=_lang(request)), "image/svg+xml; charset=utf-8")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@require_safe
def mark_html(request: HttpRequest, public_id: Any) -> HttpResponse:
    entry, _state = _entry_and_state(public_id, timezone.now())
    return _served(request, mark_snippet(entry, lang=_lang(request)) + "\n", "text/html; charset=utf-8")
