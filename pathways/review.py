"""What reviewers of a pathway application see beside the frozen snapshot: the component map —
each component, what it is, its hours, and its own endorsement standing now — and the rules in
words and drawn (pathways.diagram)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from config.i18n import visitor_language
from pathways.diagram import pathway_diagram
from pathways.registry import programme_standings


def component_map(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    """None for a programme's snapshot; for a pathway's, its components with their standing."""
    if not snapshot or snapshot.get("kind") != "pathway":
        return None
    components = snapshot.get("components") or []
    standings = programme_standings({c["programme"]["public_id"] for c in components if c.get("programme")})
    rows = []
    for component in components:
        row = dict(component)
        if component.get("programme"):
            standing = standings.get(component["programme"]["public_id"])
            row["endorsement"] = standing
            row["standing"] = standing["state"] if standing else _("not endorsed")
            row["source"] = _("programme of %(org)s") % {"org": component["programme"]["organisation"]}
        else:
            row["endorsement"] = None
            row["standing"] = _("issued elsewhere: the body does not endorse it")
            row["source"] = component["external"]["issuer_name"] or component["external"]["issuer_id"]
        rows.append(row)
    language = visitor_language()
    diagram = pathway_diagram({**snapshot, "components": rows}, language)
    return {"rows": rows, "diagram": diagram}
