"""The portal's pathway form: the fields, then one row per component and one per rule (formsets,
usable without JavaScript: a few empty rows are offered, more after each save). Everything is
checked by pathways.services; its field messages are put back on the rows they are about."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from pathways.models import Pathway, RuleKind

LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]


class PathwayForm(forms.Form):
    name_en = forms.CharField(label=_("name (English)"), max_length=200, required=False)
    name_ja = forms.CharField(label=_("name (Japanese)"), max_length=200, required=False)
    description_en = forms.CharField(label=_("description (English)"), widget=forms.Textarea(attrs={"rows": 3}),
                                     required=False)
    description_ja = forms.CharField(label=_("description (Japanese)"), widget=forms.Textarea(attrs={"rows": 3}),
                                     required=False)
    learning_outcomes = forms.CharField(label=_("learning outcomes"), required=False,
                                        help_text=_("One outcome a line."),
                                        widget=forms.Textarea(attrs={"rows": 3}))
    level = forms.CharField(label=_("level"), max_length=100, required=False)
    level_framework = forms.CharField(label=_("level framework"), max_length=200, required=False)
    learning_hours = forms.DecimalField(label=_("total notional learning hours"), max_digits=7, decimal_places=1,
                                        required=False, min_value=0.1)
    assessment_of_whole = forms.CharField(label=_("assessment of the whole"), required=False,
                                          widget=forms.Textarea(attrs={"rows": 2}))
    quality_assurance = forms.CharField(label=_("quality assurance of external components"), required=False,
                                        widget=forms.Textarea(attrs={"rows": 2}))
    stackability = forms.CharField(label=_("how it stacks into larger awards"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 2}))
    language = forms.ChoiceField(label=_("language"), choices=LANGUAGES, initial="ja")
    responsible_person = forms.CharField(label=_("person responsible"), max_length=200, required=False)


class ComponentForm(forms.Form):
    code = forms.CharField(label=_("code"), max_length=40, required=False,
                           help_text=_("A short name the rules refer to."))
    programme = forms.UUIDField(label=_("programme of this server (its ID)"), required=False,
                                help_text=_("Or leave empty and describe an external achievement."))
    achievement_url = forms.CharField(label=_("external achievement ID (URL)"), max_length=500, required=False)
    issuer_id = forms.CharField(label=_("issuer DID or URL"), max_length=500, required=False)
    issuer_name = forms.CharField(label=_("issuer name"), max_length=200, required=False)
    name_en = forms.CharField(label=_("name (English)"), max_length=200, required=False)
    name_ja = forms.CharField(label=_("name (Japanese)"), max_length=200, required=False)
    description_en = forms.CharField(label=_("what it certifies (English)"), required=False)
    description_ja = forms.CharField(label=_("what it certifies (Japanese)"), required=False)
    hours = forms.DecimalField(label=_("notional learning hours"), max_digits=6, decimal_places=1, required=False)
    is_capstone = forms.BooleanField(label=_("capstone (assesses the whole)"), required=False)


class RuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=[("", "---------"), *RuleKind.choices], required=False)
    components = forms.CharField(label=_("components (codes, separated by commas, in order)"), required=False)
    n = forms.IntegerField(label=_("N (how many)"), required=False, min_value=1)
    hours = forms.DecimalField(label=_("H (hours)"), max_digits=7, decimal_places=1, required=False)


ComponentFormSet = formset_factory(ComponentForm, extra=2, max_num=40)
RuleFormSet = formset_factory(RuleForm, extra=2, max_num=20)


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def service_data(form: PathwayForm, components: Any, rules: Any) -> dict[str, Any]:
    """The valid forms as pathways.services reads them; empty rows are left out."""
    data = {k: v for k, v in form.cleaned_data.items() if k not in {"learning_outcomes", "learning_hours"}}
    data["learning_outcomes"] = [line.strip() for line in form.cleaned_data["learning_outcomes"].splitlines()
                                 if line.strip()]
    data["learning_hours"] = _text(form.cleaned_data["learning_hours"])
    data["components"] = []
    for row in components:
        c = row.cleaned_data
        if not c or not any(c.get(k) for k in ("code", "programme", "achievement_url")):
            continue
        item = {k: c.get(k) or "" for k in ("code", "achievement_url", "issuer_id", "issuer_name", "name_en",
                                            "name_ja", "description_en", "description_ja")}
        item.update(programme=_text(c.get("programme")), hours=_text(c.get("hours")),
                    is_capstone=bool(c.get("is_capstone")))
        data["components"].append(item)
    data["rules"] = []
    for row in rules:
        r = row.cleaned_data
        if not r or not r.get("kind"):
            continue
        data["rules"].append({"kind": r["kind"], "n": r.get("n"), "hours": _text(r.get("hours")),
                              "components": [c.strip() for c in (r.get("components") or "").split(",") if c.strip()]})
    return data


def initial_of(pathway: Pathway) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    fields = {name: getattr(pathway, name) for name in PathwayForm.base_fields if name != "learning_outcomes"}
    fields["learning_outcomes"] = "\n".join(pathway.learning_outcomes or [])
    components = [{"code": c.code, "programme": c.programme.public_id if c.programme else None,
                   "achievement_url": c.achievement_url, "issuer_id": c.issuer_id, "issuer_name": c.issuer_name,
                   "name_en": c.name_en, "name_ja": c.name_ja, "description_en": c.description_en,
                   "description_ja": c.description_ja, "hours": c.hours, "is_capstone": c.is_capstone}
                  for c in pathway.components.select_related("programme")]
    rules = [{"kind": r.kind, "n": r.n, "hours": r.hours,
              "components": ", ".join(m.component.code for m in r.members.select_related("component"))}
             for r in pathway.rules.all()]
    return fields, components, rules
