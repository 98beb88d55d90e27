"""The programme form of the portal: model fields as they are, selects for the language (Django's
own list of languages) and the country (ISO 3166, from django-countries), plain-text editors for
outcomes (one per line) and tags (comma separated), and a formset for the alignments, one row per
alignment with the fields of an OB 3.0 Alignment (name, URL, targetFramework, targetCode,
description)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.conf.global_settings import LANGUAGES as ALL_LANGUAGES
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from badges.models import Programme
from badges.services import EDITABLE_FIELDS, REQUIRED_FOR_SUBMISSION
from config.errors import DomainError
from config.phrases import japanese_parentheses
from institutions.forms import add_service_errors

STRUCTURED = {"learning_outcomes", "alignments", "tags", "language", "country"}
SCALAR_FIELDS = [name for name in EDITABLE_FIELDS if name not in STRUCTURED]
ALIGNMENT_KEYS = ["name", "url", "framework", "code", "description"]
FIELD_ORDER = [
    "name_en", "name_ja", "description_en", "description_ja", "criteria_narrative", "learning_outcomes",
    "learning_hours", "level", "level_framework", "field_of_study", "assessment_method", "assessment_supervised",
    "identity_verified", "evidence_policy", "credential_pattern", "achievement_type", "tags",
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
        "participation_form", "country", "quality_assurance", "responsible_person", "tags",
    ]),
]
# The section the alignments formset is shown in (after its fields).
ALIGNMENTS_SECTION = 3


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _with_current(choices: list[tuple[str, str]], current: str) -> list[tuple[str, str]]:
    """A stored value missing from the list (free text saved before the select) stays selectable."""
    if current and current not in {code for code, _name in choices}:
        return [(current, current), *choices]
    return choices


def language_choices(current: str = "") -> list[tuple[str, str]]:
    """Every language Django names, in the reader's language, sorted by that name; Japanese and
    English first, the languages programmes are written in most."""
    named = sorted(((code, japanese_parentheses(str(_(name)))) for code, name in ALL_LANGUAGES if "-" not in code),
                   key=lambda c: c[1])
    first = [c for code in ("ja", "en") for c in named if c[0] == code]
    return _with_current([("", "---------"), *first, *[c for c in named if c[0] not in ("ja", "en")]], current)


def country_choices(current: str = "") -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes with their names in the reader's language (django-countries)."""
    named = ((code, japanese_parentheses(str(name))) for code, name in countries)
    return _with_current([("", "---------"), *named], current)


class AlignmentForm(forms.Form):
    """One OB 3.0 Alignment: what the programme aligns to, in which framework, under which code."""

    name = forms.CharField(label=_("Name (targetName)"), max_length=500, required=False)
    url = forms.CharField(label=_("URL (targetUrl)"), max_length=1000, required=False,
                          widget=forms.URLInput(attrs={"inputmode": "url"}))
    framework = forms.CharField(label=_("Framework (targetFramework)"), max_length=500, required=False)
    code = forms.CharField(label=_("Code in the framework (targetCode)"), max_length=200, required=False)
    description = forms.CharField(label=_("Description (targetDescription)"), max_length=2000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.cleaned_data.get("DELETE") or not any((cleaned.get(k) or "").strip() for k in ALIGNMENT_KEYS):
            return cleaned  # an empty or deleted row is no alignment
        if not (cleaned.get("name") or "").strip():
            self.add_error("name", _("An alignment needs a name."))
        if not (cleaned.get("url") or "").strip().startswith(("https://", "http://")):
            self.add_error("url", _("An alignment needs an http:// or https:// URL."))
        return cleaned

    def alignment(self) -> dict[str, str] | None:
        """The alignment as the programme stores it, None for an empty or deleted row."""
        if self.cleaned_data.get("DELETE"):
            return None
        values = {key: (self.cleaned_data.get(key) or "").strip() for key in ALIGNMENT_KEYS}
        return {key: value for key, value in values.items() if value} or None


AlignmentFormSet = forms.formset_factory(AlignmentForm, extra=1, can_delete=True, max_num=50, validate_max=True)


def programme_initial(programme: Programme) -> dict[str, Any]:
    """The form's initial values for an existing programme."""
    initial: dict[str, Any] = {name: getattr(programme, name) for name in SCALAR_FIELDS}
    initial["learning_outcomes"] = "\n".join(programme.learning_outcomes or [])
    initial["tags"] = ", ".join(programme.tags or [])
    initial["language"], initial["country"] = programme.language, programme.country
    initial["alignments"] = [{key: a.get(key, "") for key in ALIGNMENT_KEYS} for a in programme.alignments or []]
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
    language = forms.ChoiceField(label=_("Language"), required=True,
                                 help_text=_("The language the badge is written in."))
    country = forms.ChoiceField(label=_("Country or region of the issuer"), required=True)
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
        initial = kwargs.get("initial") or {}
        self.fields["language"].choices = language_choices(initial.get("language", ""))
        self.fields["country"].choices = country_choices(initial.get("country", ""))
        self.fields["language"].initial, self.fields["country"].initial = "ja", "JP"
        data = args[0] if args else kwargs.get("data")
        self.alignment_formset = AlignmentFormSet(data, prefix="alignments",
                                                  initial=initial.get("alignments") or None)
        # Marked on the page: what an application needs before it can be submitted.
        for names in REQUIRED_FOR_SUBMISSION.values():
            for name in names:
                self.fields[name].needed_to_submit = True

    def sections(self) -> list[dict[str, Any]]:
        """Each section of the page: its anchor, title, fields, and the alignments in the last one."""
        return [
            {"slug": f"section-{i + 1}", "title": title, "fields": [self[name] for name in names],
             "alignments": self.alignment_formset if i == ALIGNMENTS_SECTION else None}
            for i, (title, names) in enumerate(SECTIONS)
        ]

    def is_valid(self) -> bool:
        form_valid = super().is_valid()
        return self.alignment_formset.is_valid() and form_valid

    def disable(self) -> None:
        """Show the form read-only (a programme under review or endorsed)."""
        for form in [self, *self.alignment_formset.forms]:
            for field in form.fields.values():
                field.disabled = True

    def add_service_errors(self, error: DomainError) -> None:
        """A service's refusal on the form; its messages about the alignments go above the alignment
        rows as well as in the summary at the top."""
        messages = error.field_errors.get("alignments", [])
        if messages:
            formset = self.alignment_formset
            formset._non_form_errors = formset.error_class([*formset.non_form_errors(), *messages])
        add_service_errors(self, error)

    def clean_learning_outcomes(self) -> list[str]:
        return _lines(self.cleaned_data["learning_outcomes"])

    def clean_tags(self) -> list[str]:
        tags = [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]
        too_long = [tag for tag in tags if len(tag) > 50]
        if too_long:
            raise ValidationError(_("A tag has at most 50 characters: %(tag)s"), params={"tag": too_long[0]})
        return list(dict.fromkeys(tags))

    def alignments(self) -> list[dict[str, str]]:
        """The formset's rows as the programme stores them, in order, empty and deleted rows left out."""
        return [a for a in (form.alignment() for form in self.alignment_formset.forms) if a]

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
        data = {name: self.cleaned_data[name] for name in EDITABLE_FIELDS if name != "alignments"}
        return {**data, "alignments": self.alignments()}

    def image_bytes(self) -> bytes | None:
        upload = self.cleaned_data.get("image")
        return upload.read() if upload else None
