"""A pathway's components and rules drawn as an inline SVG, on the server (no JavaScript).

One box per rule, stacked; inside it one row per component (its name, hours and, for a programme,
its own endorsement standing), with arrows between the rows of an ordering rule; the capstone last.
Rows keep the drawing narrow (360 units, scaled to the page), so that it reads on a 390 px phone.
For screen readers the SVG is `role="img"` with a `<title>` and a `<desc>` stating the rules in
words (pathways.achievements.rules_narrative), and the page lists the same structure as text.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from config.phrases import japanese_list_marks
from pathways.achievements import component_name, hours_text, rules_narrative

WIDTH = 360
ROW = 34
PAD = 10
HEAD = 26
ROW_UNITS = 46
# Inside the SVG, so the drawing is the same wherever it is inlined (the page, the admin). Text is
# #1a1a1a on white or light tints (contrast above 12:1); a lost endorsement is marked by a red border
# and its words, never by colour alone.
STYLE = (
    ".pw-box{fill:#f4f6f8;stroke:#5a6570;stroke-width:1}"
    ".pw-cap{fill:#eef3fb}"
    ".pw-row{fill:#ffffff;stroke:#1d4e89;stroke-width:1}"
    ".pw-ext{stroke-dasharray:4 2}"
    ".pw-lost{stroke:#b00020;stroke-width:2}"
    ".pw-title{font:bold 12px sans-serif;fill:#1a1a1a}"
    ".pw-name{font:12px sans-serif;fill:#1a1a1a}"
    ".pw-detail{font:10px sans-serif;fill:#333333}"
    ".pw-arrow{fill:none;stroke:#1d4e89;stroke-width:1.5}"
)


def _short(text: str, language: str) -> str:
    """The text cut to fit a row: about 46 half-width units at 12 px in 324 units (a full-width
    character counts two)."""
    used, kept = 0, []
    for char in text:
        used += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if used > ROW_UNITS:
            return "".join(kept[:-1]) + "…"
        kept.append(char)
    return text


def _rule_title(rule: dict[str, Any], language: str) -> str:
    kind = rule["kind"]
    if kind == "at_least_n":
        return _("At least %(n)s of these") % {"n": rule["n"]}
    if kind == "at_least_hours":
        return _("At least %(hours)s hours from these") % {"hours": hours_text(rule["hours"])}
    if kind == "order":
        return _("In this order")
    return _("All of these")


def _standing(component: dict[str, Any]) -> str:
    if component.get("external"):
        return _("external")
    endorsement = component.get("endorsement")
    if not endorsement:
        return _("not endorsed")
    state = endorsement["state"]
    if state == "active":
        return _("endorsed")
    from endorsement.models import EndorsementState

    return str(EndorsementState(state).label) if state in EndorsementState.values else state


def _row(component: dict[str, Any], language: str, x: int, y: int, width: int) -> list[str]:
    name = escape(_short(component_name(component, language), language))
    hours = component.get("hours")
    detail = [_("%(hours)s h") % {"hours": hours_text(hours)}] if hours not in (None, "") else []
    detail.append(_standing(component))
    lost = component.get("endorsement") and component["endorsement"]["state"] != "active"
    css = "pw-row pw-lost" if lost else ("pw-row pw-ext" if component.get("external") else "pw-row")
    return [
        f'<rect class="{css}" x="{x}" y="{y}" width="{width}" height="{ROW - 6}" rx="4"/>',
        f'<text x="{x + 8}" y="{y + 12}" class="pw-name">{name}</text>',
        f'<text x="{x + 8}" y="{y + 24}" class="pw-detail">{escape(" · ".join(detail))}</text>',
    ]


def shown_narrative(text: str, language: str) -> str:
    """The rules in words as a page shows them (line breaks kept): in Japanese a rule's line begins
    with the list mark 「・」 rather than Markdown's "- ", whose space would stand before Japanese text
    (docs/i18n.md, "Japanese typography"); in English the text as it is."""
    return japanese_list_marks(text) if language == "ja" else text


def pathway_diagram(pathway: dict[str, Any], language: str) -> dict[str, Any]:
    """{"svg": the markup, "text": the alternative in words (Markdown, as the achievement's narrative),
    "shown": the same words for a page (`shown_narrative`), "height": the drawing's height}."""
    components = {c["code"]: c for c in pathway.get("components", [])}
    parts: list[str] = []
    y = PAD
    inner = WIDTH - 2 * PAD
    for rule in pathway.get("rules", []):
        codes = [c for c in rule.get("components", []) if c in components]
        height = HEAD + len(codes) * ROW + PAD // 2
        parts.append(f'<g class="pw-rule pw-{escape(rule["kind"])}">')
        parts.append(f'<rect class="pw-box" x="{PAD}" y="{y}" width="{inner}" height="{height}" rx="6"/>')
        parts.append(f'<text x="{PAD + 8}" y="{y + 17}" class="pw-title">{escape(_rule_title(rule, language))}</text>')
        row_y = y + HEAD
        for index, code in enumerate(codes):
            parts += _row(components[code], language, PAD + 8, row_y, inner - 16)
            if rule["kind"] == "order" and index < len(codes) - 1:
                ax = WIDTH - PAD - 22
                parts.append(f'<path class="pw-arrow" d="M{ax} {row_y + ROW - 8} v8 m-4 -4 l4 4 l4 -4"/>')
            row_y += ROW
        parts.append("</g>")
        y += height + PAD
    capstone = next((c for c in components.values() if c.get("is_capstone")), None)
    if capstone is not None:
        height = HEAD + ROW + PAD // 2
        parts.append('<g class="pw-rule pw-capstone">')
        parts.append(f'<rect class="pw-box pw-cap" x="{PAD}" y="{y}" width="{inner}" height="{height}" rx="6"/>')
        heading = escape(_("Capstone"))
        parts.append(f'<text x="{PAD + 8}" y="{y + 17}" class="pw-title">{heading}</text>')
        parts += _row(capstone, language, PAD + 8, y + HEAD, inner - 16)
        parts.append("</g>")
        y += height + PAD
    title = _("Components and rules of the pathway")
    text = rules_narrative(pathway, language)
    shown = shown_narrative(text, language)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="pathway-diagram" viewBox="0 0 {WIDTH} {y}" '
           f'width="100%" role="img" aria-labelledby="pw-title pw-desc">'
           f'<title id="pw-title">{escape(title)}</title><desc id="pw-desc">{escape(shown)}</desc>'
           f"<style>{STYLE}</style>"
           + "".join(parts) + "</svg>")
    return {"svg": mark_safe(svg), "text": text, "shown": shown, "height": y}  # noqa: S308 - every text is escaped above


def diagram_markup(pathway: dict[str, Any], language: str) -> SafeString:
    return pathway_diagram(pathway, language)["svg"]
