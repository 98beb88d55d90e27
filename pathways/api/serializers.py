"""Pathways API shapes. Input is checked field by field by pathways.services (the same messages as
the portal form); these serializers describe it for OpenAPI and read the JSON."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pathways.models import Pathway, PathwayComponent, PathwayRule, RuleKind


class ComponentInput(serializers.Serializer):
    code = serializers.CharField(max_length=40, help_text="short name the rules refer to, unique in the pathway")
    programme = serializers.UUIDField(required=False, allow_null=True,
                                      help_text="a programme of this server (its public_id), or leave out")
    achievement_url = serializers.CharField(required=False, allow_blank=True, help_text="an external Achievement id")
    issuer_id = serializers.CharField(required=False, allow_blank=True, help_text="the external issuer's DID or URL")
    issuer_name = serializers.CharField(required=False, allow_blank=True)
    name_en = serializers.CharField(required=False, allow_blank=True)
    name_ja = serializers.CharField(required=False, allow_blank=True)
    description_en = serializers.CharField(required=False, allow_blank=True)
    description_ja = serializers.CharField(required=False, allow_blank=True)
    hours = serializers.DecimalField(max_digits=6, decimal_places=1, required=False, allow_null=True)
    is_capstone = serializers.BooleanField(required=False, default=False)


class RuleInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    components = serializers.ListField(child=serializers.CharField(), help_text="component codes, in order")
    n = serializers.IntegerField(required=False, allow_null=True, help_text="for at_least_n")
    hours = serializers.DecimalField(max_digits=7, decimal_places=1, required=False, allow_null=True,
                                     help_text="for at_least_hours")


class PathwayInput(serializers.Serializer):
    name_en = serializers.CharField(required=False, allow_blank=True, max_length=200)
    name_ja = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description_en = serializers.CharField(required=False, allow_blank=True)
    description_ja = serializers.CharField(required=False, allow_blank=True)
    learning_outcomes = serializers.ListField(child=serializers.CharField(), required=False)
    level = serializers.CharField(required=False, allow_blank=True, max_length=100)
    level_framework = serializers.CharField(required=False, allow_blank=True, max_length=200)
    learning_hours = serializers.DecimalField(max_digits=7, decimal_places=1, required=False, allow_null=True)
    assessment_of_whole = serializers.CharField(required=False, allow_blank=True)
    quality_assurance = serializers.CharField(required=False, allow_blank=True)
    stackability = serializers.CharField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=[("ja", "ja"), ("en", "en")], required=False)
    responsible_person = serializers.CharField(required=False, allow_blank=True, max_length=200)
    components = ComponentInput(many=True, required=False, help_text="replaces every component when given")
    rules = RuleInput(many=True, required=False, help_text="replaces every rule when given (with components)")

    def to_service(self) -> dict[str, Any]:
        """The validated data as pathways.services reads it (UUIDs and decimals as text)."""
        data = dict(self.validated_data)
        for name in ("components", "rules"):
            if name in data:
                data[name] = [{k: (str(v) if k in {"programme", "hours"} and v is not None else v)
                               for k, v in dict(item).items()} for item in data[name]]
        if data.get("learning_hours") is not None:
            data["learning_hours"] = str(data["learning_hours"])
        return data


class ComponentOutput(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    effective_hours = serializers.DecimalField(max_digits=6, decimal_places=1, read_only=True, allow_null=True)

    class Meta:
        model = PathwayComponent
        fields = ["code", "position", "programme", "achievement_url", "issuer_id", "issuer_name", "name_en",
                  "name_ja", "description_en", "description_ja", "hours", "effective_hours", "is_capstone"]


class RuleOutput(serializers.ModelSerializer):
    components = serializers.SerializerMethodField()

    class Meta:
        model = PathwayRule
        fields = ["kind", "position", "n", "hours", "components"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_components(self, rule: PathwayRule) -> list[str]:
        return [m.component.code for m in rule.members.all()]


class PathwayOutput(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    components = ComponentOutput(many=True, read_only=True)
    rules = RuleOutput(many=True, read_only=True)
    achievement = serializers.SerializerMethodField()
    applications = serializers.SerializerMethodField()
    problems = serializers.SerializerMethodField()

    class Meta:
        model = Pathway
        fields = ["public_id", "slug", "organisation", "name_en", "name_ja", "description_en", "description_ja",
                  "learning_outcomes", "level", "level_framework", "learning_hours", "assessment_of_whole",
                  "quality_assurance", "stackability", "language", "responsible_person", "components", "rules",
                  "achievement", "applications", "problems", "flagged_at", "flag_reason", "created_at", "updated_at"]

    @extend_schema_field(serializers.URLField())
    def get_achievement(self, pathway: Pathway) -> str:
        from pathways.achievements import pathway_achievement_id

        return pathway_achievement_id(pathway)

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_applications(self, pathway: Pathway) -> list[dict[str, Any]]:
        return [{"id": a.pk, "state": a.state, "kind": a.kind}
                for a in pathway.applications.order_by("-created_at", "-pk")]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_problems(self, pathway: Pathway) -> list[str]:
        """What still keeps it from being submitted (empty fields, an unsound structure)."""
        from pathways.snapshots import pathway_missing_fields

        return pathway_missing_fields(pathway)
