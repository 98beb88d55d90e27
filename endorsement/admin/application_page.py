"""What the application page shows, read in a fixed number of queries and handed to the template as
plain rows: the frozen snapshot, the criteria × reviewers matrix, the user's own review, the people a
manager may assign, and the application's audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from badges.models import Programme
from endorsement.audit import audit_for
from endorsement.models import Application, AuditEvent, Criterion, Endorsement, Review, Verdict
from endorsement.services import reviewer_conflict
from institutions.models import BODY_ROLES

# The two fields given in both languages, shown side by side under one label.
BILINGUAL = [("name_en", "name_ja", _("name")), ("description_en", "description_ja", _("description"))]
SECTIONS = [
    (_("What is learnt"), ["learning_outcomes", "learning_hours", "level", "level_framework", "field_of_study",
                            "criteria_narrative",
                           "prerequisites", "stackability"]),
    (_("Assessment, evidence and quality assurance"),
     ["assessment_method", "assessment_supervised", "identity_verified", "evidence_policy", "quality_assurance",
      "responsible_person"]),
    (_("Credential"), ["credential_pattern", "achievement_type", "participation_form", "language", "country",
                       "validity_months", "alignments", "tags"]),
]
# Keys shown elsewhere on the page (header, organisation, image) rather than as rows.
NOT_ROWS = {"public_id", "slug", "organisation", "image"}


@dataclass(frozen=True)
class Row:
    label: str
    kind: str  # text, list, alignments, bool, empty
    value: Any


def _field(name: str):
    try:
        return Programme._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _label(name: str) -> str:
    field = _field(name)
    return str(field.verbose_name) if field is not None else name.replace("_", " ")


def snapshot_row(name: str, value: Any) -> Row:
    label = _label(name)
    if value in (None, "", [], {}):
        return Row(label, "empty", None)
    if isinstance(value, bool):
        return Row(label, "bool", value)
    if name == "alignments" and isinstance(value, list):
        return Row(label, "alignments", [a if isinstance(a, dict) else {"name": str(a)} for a in value])
    if isinstance(value, list):
        return Row(label, "list", [str(v) for v in value])
    field = _field(name)
    if field is not None and field.choices:
        return Row(label, "text", str(dict(field.flatchoices).get(value, value)))
    return Row(label, "text", str(value))


def snapshot_view(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    """The snapshot as labelled rows, English beside Japanese; keys this page does not know (a newer
    snapshot format) are still shown, under "Other"."""
    if not snapshot:
        return None
    bilingual = [
        {"label": str(label), "en": snapshot.get(en) or "", "ja": snapshot.get(ja) or ""}
        for en, ja, label in BILINGUAL
    ]
    known = set(NOT_ROWS) | {f for en, ja, _label_ in BILINGUAL for f in (en, ja)}
    sections = []
    for title, names in SECTIONS:
        sections.append({"title": title, "rows": [snapshot_row(n, snapshot.get(n)) for n in names]})
        known.update(names)
    other = [snapshot_row(k, v) for k, v in sorted(snapshot.items()) if k not in known]
    if other:
        sections.append({"title": _("Other"), "rows": other})
    return {
        "bilingual": bilingual,
        "sections": sections,
        "organisation": snapshot.get("organisation") or {},
        "image": snapshot.get("image"),
        "public_id": snapshot.get("public_id", ""),
        "slug": snapshot.get("slug", ""),
    }


def _criteria(application: Application) -> list[Criterion]:
    if application.criteria_table_id is None:
        return []
    return list(Criterion.objects.filter(table_id=application.criteria_table_id).order_by("position", "id"))


def judgement_matrix(application: Application) -> dict[str, Any]:
    """One row per criterion of the pinned table, one column per assigned reviewer."""
    criteria = _criteria(application)
    reviews = list(application.reviews.select_related("reviewer").prefetch_related("judgements"))
    cell = {(j.review_id, j.criterion_id): j for r in reviews for j in r.judgements.all()}
    columns = [
        {"review": r, "reviewer": r.reviewer,
         "complete": r.is_complete and r.completed_revision == application.revision}
        for r in reviews
    ]
    rows = [{"criterion": c, "cells": [cell.get((r.pk, c.pk)) for r in reviews]} for c in criteria]
    return {"columns": columns, "rows": rows, "criteria": criteria, "reviews": reviews}


def verdict_choices(criterion: Criterion) -> list[tuple[str, str]]:
    """Not applicable is offered only for optional criteria (the service refuses it otherwise)."""
    return [(v.value, str(v.label)) for v in Verdict if not criterion.required or v != Verdict.NOT_APPLICABLE]


def my_review(application: Application, review: Review, criteria: list[Criterion]) -> dict[str, Any]:
    current = {j.criterion_id: j for j in review.judgements.all()}
    return {
        "review": review,
        "editable": application.state == "in_review" and not review.is_complete,
        "rows": [{"criterion": c, "choices": verdict_choices(c), "current": current.get(c.pk)} for c in criteria],
        "missing": [c.code for c in criteria if c.pk not in current],
    }


def assignable_reviewers(application: Application) -> list[Any]:
    """Active body staff not yet assigned and not refused by `reviewer_conflict`."""
    assigned = application.reviews.values_list("reviewer_id", flat=True)
    candidates = (
        get_user_model().objects.filter(
            is_active=True, staff__organisation__is_certification_body=True,
            staff__role__in=[r.value for r in BODY_ROLES],
        ).exclude(pk__in=assigned).order_by("username")
    )
    return [user for user in candidates if reviewer_conflict(application, user) is None]


def application_trail(application: Application) -> list[AuditEvent]:
    """The application's events and those of the endorsement it led to, in chain order."""
    events = list(audit_for(application))
    endorsement = Endorsement.objects.filter(application=application).first()
    if endorsement is not None:
        events.extend(audit_for(endorsement))
    return sorted(events, key=lambda e: e.seq)


def reviews_to_do(user: Any) -> list[Review]:
    """The user's reviews still to do, oldest submission first: assigned, not completed, on an
    application submitted or in review (what the admin index shows a reviewer first)."""
    from endorsement.models import ApplicationState

    return list(
        Review.objects.filter(reviewer_id=user.pk, completed_at__isnull=True,
                              application__state__in=[ApplicationState.SUBMITTED, ApplicationState.IN_REVIEW])
        .select_related("application__programme", "application__organisation")
        .order_by("application__submitted_at", "application_id")[:50]
    )
