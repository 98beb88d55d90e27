"""The printable certificate of an award: an A4 PDF in Japanese or English, drawn from the award's
signed credential and its endorsed snapshot by WeasyPrint (HTML and CSS to PDF; fonts through
fontconfig, subsetted and embedded in the PDF). docs/learners.md, "The certificate", says why
WeasyPrint and what a server needs (Pango, and a Japanese font such as Noto Sans CJK JP).

When the library (or the Pango it loads) or a Japanese font is missing, `certificate_pdf` raises
`CertificateUnavailable` with the reason in words: the page says so (503), never a 500, and a
certificate with blank boxes for the Japanese is never handed out.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from badges.award_images import award_png
from badges.awards import award_url
from badges.sharing import qr_svg
from config.errors import DomainError
from config.i18n import in_language, local_name
from endorsement.marks import mark_svg_text
from endorsement.registry import registry_current
from institutions.models import Organisation, RecipientNames

CERTIFICATE_LANGUAGES = ("ja", "en")
# Japanese fonts fontconfig is asked for, in this order: Noto Sans CJK JP (Debian fonts-noto-cjk)
# and IPAex Gothic (fonts-ipaexfont). The first one installed is the one embedded.
JAPANESE_FONTS = ("Noto Sans CJK JP", "IPAexGothic")


class CertificateUnavailable(DomainError):
    """The PDF cannot be drawn on this server (library or font missing): 503 with the reason."""

    status_code = 503


@dataclass(frozen=True)
class Renderer:
    html_class: Any  # weasyprint.HTML
    font: str  # the family name of the Japanese font found


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: the library is there but Pango is not
        raise CertificateUnavailable(
            _("Certificates cannot be printed on this server at the moment: the PDF library (WeasyPrint "
              "with Pango) is not installed.")) from error
    return weasyprint


def _font_installed(family: str) -> bool:
    """Whether fontconfig knows `family` itself (not merely a substitute for it)."""
    from weasyprint.text.ffi import ffi, fontconfig  # loaded with WeasyPrint: fontconfig's own API

    config = fontconfig.FcInitLoadConfigAndFonts()
    pattern = fontconfig.FcPatternCreate()
    try:
        fontconfig.FcPatternAddString(pattern, b"family", family.encode())
        fontconfig.FcConfigSubstitute(config, pattern, fontconfig.FcMatchPattern)
        fontconfig.FcDefaultSubstitute(pattern)
        result = ffi.new("FcResult *")
        match = fontconfig.FcFontMatch(config, pattern, result)
        if match == ffi.NULL:
            return False
        try:
            found = ffi.new("FcChar8 **")
            if fontconfig.FcPatternGetString(match, b"family", 0, found) != 0:
                return False
            return ffi.string(found[0]).decode("utf-8", "replace").casefold() == family.casefold()
        finally:
            fontconfig.FcPatternDestroy(match)
    finally:
        fontconfig.FcPatternDestroy(pattern)
        fontconfig.FcConfigDestroy(config)


@lru_cache(maxsize=1)
def _renderer_cached() -> Renderer:
    weasyprint = _weasyprint()
    for family in JAPANESE_FONTS:
        if _font_installed(family):
            return Renderer(weasyprint.HTML, family)
    raise CertificateUnavailable(
        _("Certificates cannot be printed on this server at the moment: no Japanese font is installed "
          "(Noto Sans CJK JP or IPAex Gothic)."))


def certificate_renderer() -> Renderer:
    """WeasyPrint and the Japanese font, looked up once per process; raises CertificateUnavailable.
    A failed look-up is not remembered (installing the font helps without a restart)."""
    try:
        return _renderer_cached()
    except CertificateUnavailable:
        _renderer_cached.cache_clear()
        raise


def shown_name(credential: dict[str, Any]) -> str:
    """The learner's name as the badge carries it in plain words; empty when the organisation hashes
    names or leaves them out (RecipientNames): the certificate, public like the badge, says no more."""
    for identity in credential.get("credentialSubject", {}).get("identifier", []) or []:
        if identity.get("identityType") == "name" and not identity.get("hashed"):
            return str(identity.get("identityHash") or "")
    return ""


def _body_name(language: str) -> str:
    body = Organisation.objects.filter(is_certification_body=True).first()
    return local_name(body, language) if body is not None else settings.BODY_NAME


def _data_uri(content: bytes, media_type: str) -> str:
    return f"data:{media_type};base64," + base64.b64encode(content).decode("ascii")


def certificate_context(award: Any, language: str) -> dict[str, Any]:
    """What the certificate says, in `language` (ja or en)."""
    credential = award.credential
    snapshot = award.endorsement.application.snapshot or {}
    url = award_url(award.public_id)
    with translation.override(language):
        registry = registry_current()
        entry = registry.by_id.get(str(award.programme.public_id)) if registry is not None else None
        mark = mark_svg_text(entry.entry, entry.standing(timezone.now()), lang=language) if entry else ""
        return {
            "language": language,
            "name": shown_name(credential),
            "names_withheld": award.organisation.recipient_names != RecipientNames.INCLUDE,
            "achievement": in_language(snapshot, "name", language).text
            or credential["credentialSubject"]["achievement"]["name"],
            "hours": snapshot.get("learning_hours"),
            "level": snapshot.get("level") or "",
            "level_framework": snapshot.get("level_framework") or "",
            "issuer": local_name(award.organisation, language),
            "body": _body_name(language),
            "valid_from": award.valid_from,
            "valid_until": award.valid_until,
            "endorsed_from": award.endorsement.valid_from,
            "endorsed_until": award.endorsement.valid_until,
            "revoked": bool(award.revoked_at),
            "url": url,
            "certificate_id": str(award.public_id),
            "qr_svg": qr_svg(url, title=_("QR code of this badge's verification page")),
            "badge_png": _data_uri(award_png(award), "image/png"),
            "mark_svg": mark,
        }


def certificate_pdf(award: Any, language: str) -> bytes:
    """The certificate as PDF bytes; raises CertificateUnavailable when it cannot be drawn here."""
    renderer = certificate_renderer()
    context = certificate_context(award, language)
    context["font"] = renderer.font
    with translation.override(language):
        html = render_to_string("badges/awards/certificate.html", context)
    return renderer.html_class(string=html, base_url=context["url"]).write_pdf()
