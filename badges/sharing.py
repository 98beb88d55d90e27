"""What the learner's badge page offers to share it (docs/learners.md, "Share and print"): the
LinkedIn add-to-profile link for a certification, share links, a QR code of the verification URL
(segno, drawn as inline SVG: no image request, nothing from another site) and the link-preview tags
(Open Graph and Twitter card) with the badge's PNG as an absolute URL.

Nothing here writes; every value comes from the award's signed credential and its endorsed snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.urls import reverse
from django.utils.dateparse import parse_datetime

LINKEDIN_ADD_TO_PROFILE = "https://www.linkedin.com/profile/add"


@dataclass(frozen=True)
class ShareLink:
    key: str  # linkedin-share, x, facebook, email: a stable class name for styles and tests
    label: str
    href: str


def _moment(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) and value else None


def linkedin_add_url(*, name: str, organisation: str, issued: datetime | None, expires: datetime | None,
                     cert_url: str, cert_id: str) -> str:
    """LinkedIn's documented "Add to profile" link for a certification (addtoprofile.linkedin.com):
    the form of the learner's "Licenses & certifications" section, filled in; the learner still
    confirms it on LinkedIn. Months are 1-12; the expiry fields only when the badge has an end."""
    params: list[tuple[str, str]] = [("startTask", "CERTIFICATION_NAME"), ("name", name),
                                     ("organizationName", organisation)]
    if issued is not None:
        params += [("issueYear", str(issued.year)), ("issueMonth", str(issued.month))]
    if expires is not None:
        params += [("expirationYear", str(expires.year)), ("expirationMonth", str(expires.month))]
    params += [("certUrl", cert_url), ("certId", cert_id)]
    return f"{LINKEDIN_ADD_TO_PROFILE}?{urlencode(params, quote_via=quote)}"


def share_links(*, url: str, title: str, labels: dict[str, str]) -> list[ShareLink]:
    """Plain links that open each site's own share form with the badge's page: no script and no
    widget of theirs is loaded on our page (they see nothing until the learner clicks)."""
    return [
        ShareLink("linkedin-share", labels["linkedin"],
                  "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url}, quote_via=quote)),
        ShareLink("x", labels["x"],
                  "https://x.com/intent/post?" + urlencode({"url": url, "text": title}, quote_via=quote)),
        ShareLink("facebook", labels["facebook"],
                  "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}, quote_via=quote)),
        ShareLink("email", labels["email"],
                  "mailto:?" + urlencode({"subject": title, "body": url}, quote_via=quote)),
    ]


def qr_svg(url: str, *, title: str = "", css_class: str = "qr-code") -> str:
    """The QR code of `url` as an inline <svg> (error correction M, with the 4-module quiet zone the
    standard asks for), sized by CSS through its viewBox."""
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=4, border=4, dark="#000", light="#fff", svgclass=css_class, lineclass=None,
                           omitsize=True, title=title or None)
    return svg.replace("<svg ", "<svg role=\"img\" ", 1)


def badge_image_url(public_id: Any) -> str:
    """The badge's PNG as an absolute URL: what link previews (og:image, twitter:image) need."""
    return settings.SITE_URL + reverse("awards:badge_png", args=[public_id])


def award_share(award: Any, *, name: str, url: str, labels: dict[str, str]) -> dict[str, Any]:
    """Everything the badge page shows to share `award` named `name` (in the page's language)."""
    credential = award.credential
    issuer = credential.get("issuer") or {}
    issuer_name = issuer.get("name") or award.organisation.name
    issued = _moment(credential.get("validFrom")) or award.valid_from
    expires = _moment(credential.get("validUntil"))
    return {
        "linkedin_add_url": linkedin_add_url(name=name, organisation=issuer_name, issued=issued, expires=expires,
                                             cert_url=url, cert_id=str(award.public_id)),
        "share_links": share_links(url=url, title=name, labels=labels),
        "qr_svg": qr_svg(url, title=labels.get("qr", "")),
        "image_url": badge_image_url(award.public_id),
        "issuer_name": issuer_name,
    }
