"""A pathway: a coherent stack of learning from many sources, endorsed as a whole (issue 11).

A `Pathway` is owned by a member organisation or by the certification body. It is made of
`PathwayComponent`s — a programme on this server, or an achievement issued elsewhere named by its
Achievement id and its issuer's DID or URL — grouped by `PathwayRule`s (all of, at least N of, at
least H hours from, A before B). At most one component is the capstone that assesses the whole.
Like a programme, a pathway has no publication state of its own: it is public while an endorsement
of it is in force and its application is published (endorsement.Application / Endorsement point at
it instead of at a programme). docs/pathways.md.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from badges.models import Programme
from institutions.models import Organisation


def _in_language(instance: models.Model, field: str) -> str:
    first, second = ("ja", "en") if (get_language() or "").startswith("ja") else ("en", "ja")
    return getattr(instance, f"{field}_{first}") or getattr(instance, f"{field}_{second}")


class Pathway(models.Model):
    """A pathway submitted for endorsement; its own OB 3.0 Achievement (pathways.achievements)."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT,
                                     related_name="pathways")
    slug = models.SlugField(_("slug"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_ja = models.TextField(_("description (Japanese)"), blank=True)
    learning_outcomes = models.JSONField(_("learning outcomes"), default=list, blank=True)
    level = models.CharField(_("level"), max_length=100, blank=True)
    level_framework = models.CharField(_("level framework"), max_length=200, blank=True)
    learning_hours = models.DecimalField(
        _("total notional learning hours"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    assessment_of_whole = models.TextField(
        _("assessment of the whole"), blank=True,
        help_text=_("How the pathway as a whole is assessed (the capstone, a portfolio review, …)."),
    )
    quality_assurance = models.TextField(
        _("quality assurance of external components"), blank=True,
        help_text=_("How the quality of the components issued elsewhere is assured."),
    )
    stackability = models.TextField(_("how it stacks into larger awards"), blank=True)
    language = models.CharField(_("language"), max_length=16, default="ja")
    responsible_person = models.CharField(_("person responsible"), max_length=200, blank=True)
    # Set when a component programme loses its endorsement (pathways.services.flag_pathways_of);
    # cleared by a manager once the pathway was looked at.
    flagged_at = models.DateTimeField(_("flagged at"), null=True, blank=True, editable=False)
    flag_reason = models.TextField(_("why it is flagged"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("pathway")
        verbose_name_plural = _("pathways")
        ordering = ["organisation", "name_en"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="pathway_slug_per_organisation"),
        ]

    def __str__(self) -> str:
        return _in_language(self, "name") or str(self.public_id)

    @property
    def name(self) -> str:
        return self.name_en or self.name_ja


class PathwayComponent(models.Model):
    """One piece of a pathway: a programme of this server, or an external achievement."""

    pathway = models.ForeignKey(Pathway, verbose_name=_("pathway"), on_delete=models.CASCADE,
                                related_name="components")
    code = models.SlugField(_("code"), max_length=40,
                            help_text=_("A short name the rules refer to, unique in the pathway."))
    position = models.PositiveIntegerField(_("position"), default=0)
    programme = models.ForeignKey(Programme, verbose_name=_("programme"), on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="pathway_components")
    achievement_url = models.URLField(_("achievement ID (URL)"), max_length=500, blank=True)
    issuer_id = models.CharField(_("issuer DID or URL"), max_length=500, blank=True)
    issuer_name = models.CharField(_("issuer name"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200, blank=True)
    description_en = models.TextField(_("what it certifies (English)"), blank=True)
    description_ja = models.TextField(_("what it certifies (Japanese)"), blank=True)
    # An external component's notional hours; a programme's come from the programme unless given.
    hours = models.DecimalField(_("notional learning hours"), max_digits=6, decimal_places=1, null=True,
                                blank=True)
    is_capstone = models.BooleanField(_("capstone (assesses the whole)"), default=False)

    class Meta:
        verbose_name = _("pathway component")
        verbose_name_plural = _("pathway components")
        ordering = ["pathway", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "code"], name="pathway_component_code_unique"),
            models.UniqueConstraint(fields=["pathway", "programme"], condition=Q(programme__isnull=False),
                                    name="pathway_programme_once"),
            models.UniqueConstraint(fields=["pathway", "achievement_url"], condition=~Q(achievement_url=""),
                                    name="pathway_external_achievement_once"),
            models.UniqueConstraint(fields=["pathway"], condition=Q(is_capstone=True),
                                    name="one_capstone_per_pathway"),
            models.CheckConstraint(
                condition=(Q(programme__isnull=False, achievement_url="", issuer_id="")
                           | (Q(programme__isnull=True) & ~Q(achievement_url="") & ~Q(issuer_id=""))),
                name="pathway_component_programme_or_external",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.label}"

    @property
    def is_external(self) -> bool:
        return self.programme_id is None

    @property
    def label(self) -> str:
        """The component's name in the reader's language (a programme's own name by default)."""
        own = _in_language(self, "name")
        if own or self.programme is None:
            return own or self.achievement_url
        return str(self.programme)

    @property
    def effective_hours(self):
        """The hours this component counts for: its own, else its programme's."""
        if self.hours is not None:
            return self.hours
        return self.programme.learning_hours if self.programme is not None else None


class RuleKind(models.TextChoices):
    ALL = "all", _("All of these")
    AT_LEAST_N = "at_least_n", _("At least N of these")
    AT_LEAST_HOURS = "at_least_hours", _("At least H hours from these")
    ORDER = "order", _("In this order (each before the next)")


class PathwayRule(models.Model):
    """A rule over some of the pathway's components (pathways.rules evaluates it)."""

    pathway = models.ForeignKey(Pathway, verbose_name=_("pathway"), on_delete=models.CASCADE,
                                related_name="rules")
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)
    position = models.PositiveIntegerField(_("position"), default=0)
    n = models.PositiveIntegerField(_("N (how many)"), null=True, blank=True)
    hours = models.DecimalField(_("H (hours)"), max_digits=7, decimal_places=1, null=True, blank=True)
    components = models.ManyToManyField(PathwayComponent, verbose_name=_("components"), through="RuleMember",
                                        related_name="rules")

    class Meta:
        verbose_name = _("pathway rule")
        verbose_name_plural = _("pathway rules")
        ordering = ["pathway", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(kind="at_least_n") | Q(n__gte=1), name="pathway_rule_n_given"),
            models.CheckConstraint(condition=~Q(kind="at_least_hours") | Q(hours__gt=0),
                                   name="pathway_rule_hours_given"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.pk})"


class RuleMember(models.Model):
    """A component in a rule, at a position (the sequence of an ordering rule)."""

    rule = models.ForeignKey(PathwayRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="members")
    component = models.ForeignKey(PathwayComponent, verbose_name=_("component"), on_delete=models.CASCADE,
                                  related_name="memberships")
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("rule member")
        verbose_name_plural = _("rule members")
        ordering = ["rule", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["rule", "component"], name="component_once_per_rule")]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.component.code}"


from pathways.completion_models import Completion, CompletionState  # noqa: E402,F401 - path2's model
