"""Writes for programmes: create, update, validate, and the snapshot frozen on submission."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from badges.images import ImageError, check_image
from badges.models import Programme
from config.errors import InvalidInput, NotPermitted, WrongState
from institutions.models import Organisation
from institutions.permissions import can_edit_for

# Fields that must be filled before an application can be submitted (the criteria table asks for
# each of them); a bilingual pair counts as filled when either language is.
REQUIRED_FOR_SUBMISSION = {
    "name": ("name_en", "name_ja"),
    "description": ("description_en", "description_ja"),
    "criteria_narrative": ("criteria_narrative",),
    "learning_outcomes": ("learning_outcomes",),
    "learning_hours": ("learning_hours",),
    "assessment_method": ("assessment_method",),
    "evidence_policy": ("evidence_policy",),
    "quality_assurance": ("quality_assurance",),
    "responsible_person": ("responsible_person",),
}
EDITABLE_FIELDS = [
    "name_en", "name_ja", "description_en", "description_ja", "criteria_narrative", "learning_outcomes",
    "learning_hours", "level", "level_framework", "field_of_study", "assessment_method", "assessment_supervised",
    "identity_verified", "evidence_policy", "credential_pattern", "achievement_type", "alignments", "tags",
    "language", "validity_months", "country", "participation_form", "quality_assurance", "prerequisites",
    "stackability", "responsible_person",
]
MAX_LEARNING_HOURS = Decimal("99999.95")  # rounds to 100000.0, one digit more than the column holds
# Application states in which the programme is under review or endorsed: its content is frozen.
LOCKING_STATES = {"submitted", "in_review", "endorsed", "published"}
UNDER_REVIEW_STATES = {"submitted", "in_review", "endorsed"}
# The states of an open application whose programme is being edited (the draft of its next version).
EDITING_STATES = {"draft", "changes_requested"}


def programme_missing_fields(programme: Programme) -> list[str]:
    """Names of the required fields still empty (see REQUIRED_FOR_SUBMISSION)."""
    missing = []
    for label, fields in REQUIRED_FOR_SUBMISSION.items():
        if not any(getattr(programme, f) not in (None, "", [], {}) for f in fields):
            missing.append(label)
    return missing


def programme_lock_reason(programme: Programme) -> str | None:
    """Why the programme cannot be edited now, or None. Under review: frozen. Endorsed: the
    programme's fields are the draft of its next version, editable while a change application or a
    renewal is open (draft or changes requested); badges keep their endorsed version's content."""
    states = set(programme.applications.values_list("state", flat=True))
    if states & UNDER_REVIEW_STATES:
        return _("The programme is under review; it cannot be changed now.")
    if "published" in states and not states & EDITING_STATES:
        return _("The programme is endorsed: open a change application (or a renewal) to edit it. Badges keep "
                 "being issued under the endorsed version until the change is endorsed.")
    return None


def programme_is_locked(programme: Programme) -> bool:
    return programme_lock_reason(programme) is not None


def tags_sort_alike(tags: list[str]) -> bool:
    """Whether the tags sort the same by code point (RDFC-1.0, our canonicalization) and by UTF-16
    code unit (JavaScript's default sort, used by Digital Bazaar's rdf-canonize 5; upstream issue
    digitalbazaar/rdf-canonize#52). Tags are the only repeated literal of one subject and predicate
    in our credentials, so where they disagree, a badge's canonical N-Quads differ between the two
    implementations and its signature fails there. Each tag is followed by the closing quote of its
    N-Quads literal, which sorts the same in both orders."""
    lines = [t + '"' for t in tags]
    return sorted(lines) == sorted(lines, key=lambda line: line.encode("utf-16-be"))


def _clean_structured(data: dict[str, Any]) -> dict[str, list[str]]:
    """Validate the JSON-valued fields the same way for forms and the API; return field errors."""
    errors: dict[str, list[str]] = {}
    outcomes = data.get("learning_outcomes")
    if outcomes is not None:
        if not isinstance(outcomes, list) or not all(isinstance(o, str) and o.strip() for o in outcomes):
            errors["learning_outcomes"] = [_("Give a list of non-empty outcome statements.")]
        elif len(outcomes) > 50:
            errors["learning_outcomes"] = [_("At most 50 learning outcomes.")]
    tags = data.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t.strip()) <= 50 for t in tags)
    ):
        errors["tags"] = [_("Give a list of tags of 1 to 50 characters.")]
    elif tags and not tags_sort_alike(tags):
        errors["tags"] = [_(
            "These tags mix characters beyond U+FFFF (such as 𠮷 or emoji) with characters from U+E000 "
            "(such as full-width brackets) in a way that some verifiers order differently, so badges "
            "carrying them would fail there. Change one of the tags."
        )]
    alignments = data.get("alignments")
    if alignments is not None:
        if not isinstance(alignments, list):
            errors["alignments"] = [_("Give a list of alignments.")]
        else:
            for i, item in enumerate(alignments):
                if not isinstance(item, dict) or not str(item.get("name", "")).strip():
                    errors.setdefault("alignments", []).append(_("Alignment %(n)d needs a name.") % {"n": i + 1})
                elif not str(item.get("url", "")).startswith(("https://", "http://")):
                    errors.setdefault("alignments", []).append(
                        _("Alignment %(n)d needs an http(s) URL.") % {"n": i + 1}
                    )
                elif set(item) - {"name", "url", "framework", "code", "description"}:
                    errors.setdefault("alignments", []).append(
                        _("Alignment %(n)d has unknown keys.") % {"n": i + 1}
                    )
    hours = data.get("learning_hours")
    if hours is not None:
        try:
            value = Decimal(str(hours)) if not isinstance(hours, bool) else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            errors["learning_hours"] = [_("Give the learning hours as a number, such as 30 or 7.5.")]
        elif value <= 0:
            errors["learning_hours"] = [_("Learning hours must be more than zero.")]
        elif value >= MAX_LEARNING_HOURS:  # the column holds 6 digits, one after the point
            errors["learning_hours"] = [_("Learning hours must be at most 99999.9.")]
    return errors


def _apply(programme: Programme, data: dict[str, Any], image: bytes | None) -> None:
    errors = _clean_structured(data)
    names = (data.get("name_en", programme.name_en), data.get("name_ja", programme.name_ja))
    if not any(str(n or "").strip() for n in names):
        errors["name_en"] = [_("Give the programme a name in English or Japanese.")]
    checked = None
    if image is not None:
        try:
            checked = check_image(image)
        except ImageError as exc:
            errors["image"] = [str(exc)]
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(programme, name, data[name])
    # The model's own rules too (lengths, choices, positive numbers), so that what the database
    # would refuse, or store unchecked as SQLite does, comes back as field messages instead.
    try:
        programme.full_clean(exclude=["organisation", "slug", "image", *errors], validate_unique=False,
                             validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise InvalidInput(_("The programme has errors."), field_errors=errors)
    if checked is not None:
        programme.image.save(f"{programme.public_id}.{checked.extension}", ContentFile(checked.content), save=False)


def _unique_slug(organisation: Organisation, base: str) -> str:
    base = slugify(base)[:70] or "programme"
    slug, n = base, 2
    while Programme.objects.filter(organisation=organisation, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def programme_create(
    *, actor: Any, organisation: Organisation, data: dict[str, Any], image: bytes | None = None
) -> Programme:
    """Create a draft programme for the actor's organisation. Nothing is written on invalid input."""
    if not can_edit_for(actor, organisation):
        raise NotPermitted(_("Only owners and editors of the organisation may create programmes."))
    programme = Programme(organisation=organisation)
    _apply(programme, data, image)
    programme.slug = _unique_slug(organisation, data.get("slug") or programme.name_en or programme.name_ja)
    programme.save()
    return programme


@transaction.atomic
def programme_update(
    *, actor: Any, programme: Programme, data: dict[str, Any], image: bytes | None = None
) -> Programme:
    """Change a programme that is not under review or endorsed (then a new application is needed)."""
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if not can_edit_for(actor, programme.organisation):
        raise NotPermitted(_("Only owners and editors of the organisation may edit programmes."))
    reason = programme_lock_reason(programme)
    if reason:
        raise WrongState(reason)
    _apply(programme, data, image)
    programme.save()
    return programme


def programme_snapshot(programme: Programme) -> dict[str, Any]:
    """A JSON copy of everything reviewers judge, frozen into the application on submission."""
    snap: dict[str, Any] = {"public_id": str(programme.public_id), "slug": programme.slug}
    for name in EDITABLE_FIELDS:
        value = getattr(programme, name)
        snap[name] = str(value) if isinstance(value, Decimal) else value
    snap["organisation"] = {"slug": programme.organisation.slug, "name": programme.organisation.name}
    if programme.image:
        programme.image.open("rb")
        try:
            content = programme.image.read()
        finally:
            programme.image.close()
        snap["image"] = {"name": programme.image.name, "sha256": hashlib.sha256(content).hexdigest()}
    return snap


def snapshot_digest(snapshot: dict[str, Any]) -> str:
    canonical = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
