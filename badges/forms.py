"""The programme form of the portal: model fields as they are, and plain-text editors for the
structured ones (outcomes one per line, tags comma separated, alignments "name | url | framework")."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from badges.models import Programme
from badges.services import EDITABLE_FIELDS, REQUIRED_FOR_SUBMISSION

STRUCTURED = {"learning_outcomes", "alignments", "tags"}
SCALAR_FIELDS = [name for name in EDITABLE_FIELDS if name not in STRUCTURED]
ALIGNMENT_KEYS = ["name", "url", "framework", "code", "description"]
FIELD_ORDER = [
    "name_en", "name_ja", "description_en", "description_ja", "criteria_narrative", "learning_outcomes",
    "learning_hours", "level", "level_framework", "field_of_study", "assessment_method", "assessment_supervised",
    "identity_verified", "evidence_policy", "credential_pattern", "achievement_type", "alignments", "tags",
    "language", "image", "validity_months", "country", "participation_form", "quality_assurance",
    "prerequisites", "stackability", "responsible_person",
]
# Groups of the form page, so a long form reads as a few short ones.
SECTIONS = [
    (_("Name and description"), ["name_en", "name_ja", "description_en", "description_ja", "language", "image"]),
    (_("What is learnt"), ["learning_outcomes", "learning_hours", "level", "level_framework", "field_of_study",
                          "prerequisites"]),
    (_("How it is assessed and awarded"), [
        "criteria_narrative", "assessment_method", "assessment_supervised", "identity_verified", "evidence_policy",
        "credential_pattern", "achievement_type", "validity_months", "stackability",
    ]),
    (_("Context and quality"), [
        "participation_form", "country", "quality_assurance", "responsible_person", "alignments", "tags",
    ]),
]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def alignments_to_text(alignments: list[dict[str, Any]]) -> str:
    rows = []
    for item in alignments or []:
        values = [str(item.get(key, "") or "") for key in ALIGNMENT_KEYS]
        while len(values) > 3 and not values[-1]:
            values.pop()
        rows.append(" | ".join(values).rstrip(" |"))
    return "\n".join(rows)


def programme_initial(programme: Programme) -> dict[str, Any]:
    """The form's initial values for an existing programme."""
    initial: dict[str, Any] = {name: getattr(programme, name) for name in SCALAR_FIELDS}
    initial["learning_outcomes"] = "\n".join(programme.learning_outcomes or [])
    initial["tags"] = ", ".join(programme.tags or [])
    initial["alignments"] = alignments_to_text(programme.alignments)
    return initial


class ProgrammeForm(forms.Form):
    """Everything a programme states. Checks what a form can (types, lengths, the text formats);
    the service checks the rest (outcomes, alignment URLs, the image) and its messages land on the
    same fields."""

    field_order = FIELD_ORDER

    learning_outcomes = forms.CharField(
        label=_("Learning outcomes"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One outcome per line, e.g. “Clean a tabular data set”."),
    )
    alignments = forms.CharField(
        label=_("Alignments"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One per line: name | URL | framework (optionally | code | description), e.g. "
            "“Data literacy | https://example.org/dl | DigComp”."
        ),
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=2000, help_text=_("Separated by commas, e.g. data, business."),
    )
    image = forms.FileField(
        label=_("Image"), required=False,
        help_text=_("A PNG of at most 1 MB, or an SVG without scripts or external references."),
    )
    validity_months = forms.IntegerField(
        label=_("Badge validity (months)"), required=False, min_value=1, max_value=1200,
        help_text=_("How long a badge issued under this programme stays valid; empty for no end."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_fields = fields_for_model(Programme, fields=[f for f in SCALAR_FIELDS if f not in self.fields])
        self.fields.update(model_fields)
        self.order_fields(self.field_order)
        for name in ("language", "country"):
            self.fields[name].widget.attrs["size"] = 16
        self.fields["language"].help_text = _("The language the badge is written in, as a code: ja, en…")
        # Marked on the page: what an application needs before it can be submitted.
        for names in REQUIRED_FOR_SUBMISSION.values():
            for name in names:
                self.fields[name].needed_to_submit = True

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in SECTIONS]

    def disable(self) -> None:
        """Show the form read-only (a programme under review or endorsed)."""
        for field in self.fields.values():
            field.disabled = True

    def clean_learning_outcomes(self) -> list[str]:
        return _lines(self.cleaned_data["learning_outcomes"])

    def clean_tags(self) -> list[str]:
        tags = [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]
        too_long = [tag for tag in tags if len(tag) > 50]
        if too_long:
            raise ValidationError(_("A tag has at most 50 characters: %(tag)s"), params={"tag": too_long[0]})
        return list(dict.fromkeys(tags))

    def clean_alignments(self) -> list[dict[str, str]]:
        alignments, errors = [], []
        for number, line in enumerate(_lines(self.cleaned_data["alignments"]), start=1):
            parts = [part.strip() for part in line.split("|", len(ALIGNMENT_KEYS) - 1)]
            if len(parts) < 2 or not parts[0] or not parts[1]:
                errors.append(ValidationError(
                    _("Line %(n)d: write name | URL | framework."), params={"n": number}, code="format"
                ))
                continue
            alignments.append({key: value for key, value in zip(ALIGNMENT_KEYS, parts, strict=False) if value})
        if errors:
            raise ValidationError(errors)
        return alignments

    def clean_image(self) -> Any:
        upload = self.cleaned_data.get("image")
        # Refuse an oversized upload before reading it into memory; the service checks the content.
        if upload and upload.size > settings.MAX_IMAGE_BYTES:
            raise ValidationError(
                _("The image is %(size)s bytes; the limit is %(limit)s bytes."),
                params={"size": f"{upload.size:,}", "limit": f"{settings.MAX_IMAGE_BYTES:,}"},
            )
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not (cleaned.get("name_en") or "").strip() and not (cleaned.get("name_ja") or "").strip():
            self.add_error("name_en", ValidationError(_("Give the programme a name in English or Japanese.")))
        return cleaned

    def programme_data(self) -> dict[str, Any]:
        """The cleaned values as the service takes them."""
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}

    def image_bytes(self) -> bytes | None:
        upload = self.cleaned_data.get("image")
        return upload.read() if upload else None
