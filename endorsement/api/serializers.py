"""Input and output serializers of the endorsement API: applications, reviews, endorsements,
criteria tables and the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from badges.models import Programme
from config.fsm import allowed_transitions
from endorsement.audit import audit_for
from endorsement.credentials import endorsed_achievement_id
from endorsement.models import (
    Application,
    ApplicationKind,
    ApplicationState,
    CriteriaTable,
    Criterion,
    Endorsement,
    EndorsementState,
    Judgement,
    Review,
    ReviewDepth,
)
from endorsement.renewals import application_changes, previous_judgements, renewal_opens_at, renewal_refusal
from endorsement.transparency import changes_feedback, judgements_of
from institutions.permissions import is_body_staff, is_manager
from pathways.models import Pathway

APPLICATION_TRANSITIONS = [
    "submit", "resubmit", "withdraw", "start_review", "request_changes", "endorse", "reject", "publish",
]
ENDORSEMENT_TRANSITIONS = ["suspend", "reinstate", "revoke"]


def _user(serializer: serializers.Serializer) -> Any:
    return serializer.context["request"].user


def _state_field(choices: list[tuple[str, str]]) -> serializers.Field:
    """A read-only state, documented as an inline enum. Applications and endorsements both call
    their field `state`; drf-spectacular would lift both choice sets into one colliding enum
    component name, which it does not do for an enum inside `allOf`."""

    @extend_schema_field({"allOf": [{"type": "string", "enum": [value for value, _label in choices]}]})
    class StateField(serializers.CharField):
        pass

    return StateField(read_only=True)


# --- Shared pieces --------------------------------------------------------------------------------
class AuditEventOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_repr")
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    comment = serializers.CharField()
    data = serializers.JSONField(required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        # Event data names reviewers and their verdicts: the body's staff see it, applicants do not.
        if not is_body_staff(self.context["request"].user):
            data.pop("data", None)
        return data


class CriteriaTableBrief(serializers.ModelSerializer):
    class Meta:
        model = CriteriaTable
        fields = ["id", "code", "version", "subject", "title_en", "title_ja", "status"]


class CriterionOutput(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = ["code", "position", "required", "title_en", "title_ja", "guidance_en", "guidance_ja"]


class CriteriaTableOutput(serializers.ModelSerializer):
    criteria = CriterionOutput(many=True, read_only=True)

    class Meta:
        model = CriteriaTable
        fields = ["id", "code", "version", "subject", "title_en", "title_ja", "rule", "status", "published_at",
                  "criteria"]


class ProgrammeBrief(serializers.ModelSerializer):
    class Meta:
        model = Programme
        fields = ["public_id", "slug", "name_en", "name_ja"]


# --- Applications ---------------------------------------------------------------------------------
class FieldChangeOutput(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class PreviousJudgementOutput(serializers.Serializer):
    reviewer = serializers.CharField()
    verdict = serializers.CharField()
    verdict_label = serializers.CharField()
    comment = serializers.CharField(allow_blank=True)


class ReviewSummary(serializers.ModelSerializer):
    reviewer = serializers.SerializerMethodField()
    complete = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "reviewer", "assigned_at", "completed_at", "completed_revision", "complete"]

    def get_reviewer(self, review: Review) -> str | None:
        # Applicants see how far the review is, not who reviews them.
        return review.reviewer.get_username() if is_body_staff(_user(self)) else None

    def get_complete(self, review: Review) -> bool:
        return review.is_complete and review.completed_revision == review.application.revision


class PathwayBrief(serializers.ModelSerializer):
    class Meta:
        model = Pathway
        fields = ["public_id", "slug", "name_en", "name_ja"]


class ApplicationListOutput(serializers.ModelSerializer):
    programme = ProgrammeBrief(read_only=True, allow_null=True)  # null for a pathway's application
    pathway = PathwayBrief(read_only=True, allow_null=True)  # null for a programme's
    state = _state_field(ApplicationState.choices)
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    # new, renewal (renews is set) or change (revises is set); inline enums, as for `state`.
    kind = _state_field(ApplicationKind.choices)
    review_depth = _state_field(ReviewDepth.choices)

    class Meta:
        model = Application
        fields = ["id", "programme", "pathway", "organisation", "state", "kind", "renews", "revises", "review_depth",
                  "revision", "created_at", "submitted_at", "decided_at", "updated_at"]


class JudgementDetail(serializers.Serializer):
    """One reviewer's judgement of one criterion, as managers read them."""

    review = serializers.IntegerField()
    reviewer = serializers.CharField()
    criterion = serializers.CharField()
    required = serializers.BooleanField()
    verdict = serializers.CharField()
    comment = serializers.CharField()
    updated_at = serializers.DateTimeField()
    review_complete = serializers.BooleanField()


class UnmetCriterion(serializers.Serializer):
    criterion = serializers.CharField()
    title_en = serializers.CharField()
    title_ja = serializers.CharField()
    required = serializers.BooleanField()
    reviewer = serializers.CharField(help_text="the reviewer's name, or 'Reviewer n' when the body hides names")
    verdict = serializers.CharField()
    comment = serializers.CharField()


class ReviewerSummary(serializers.Serializer):
    reviewer = serializers.CharField()
    summary = serializers.CharField()


class ChangesFeedback(serializers.Serializer):
    """What the organisation reads while changes are requested."""

    message = serializers.CharField()
    unmet_criteria = UnmetCriterion(many=True)
    reviews = ReviewerSummary(many=True)
    reviewer_names_shown = serializers.BooleanField()


class ApplicationOutput(ApplicationListOutput):
    criteria_table = CriteriaTableBrief(read_only=True, allow_null=True)  # null until submitted
    reviews = serializers.SerializerMethodField()
    endorsement = serializers.SerializerMethodField()
    transitions = serializers.SerializerMethodField()
    audit = serializers.SerializerMethodField()
    judgements = serializers.SerializerMethodField()
    feedback = serializers.SerializerMethodField()

    changes_since_endorsed = serializers.SerializerMethodField()
    previous_judgements = serializers.SerializerMethodField()

    class Meta(ApplicationListOutput.Meta):
        fields = [*ApplicationListOutput.Meta.fields, "snapshot", "snapshot_sha256", "criteria_table",
                  "changes_message", "decision_comment", "reviews", "endorsement", "transitions", "audit",
                  "judgements", "feedback", "changes_since_endorsed", "previous_judgements"]

    @extend_schema_field(JudgementDetail(many=True))
    def get_judgements(self, application: Application) -> list[dict[str, Any]]:
        """Every judgement of every review: for the body's managers (empty for anyone else)."""
        return judgements_of(application) if is_manager(_user(self)) else []

    @extend_schema_field(ChangesFeedback(allow_null=True))
    def get_feedback(self, application: Application) -> dict[str, Any] | None:
        """While changes are requested: the criteria not met, with the reviewers' comments."""
        return changes_feedback(application)

    @extend_schema_field(FieldChangeOutput(many=True, allow_null=True))
    def get_changes_since_endorsed(self, application: Application) -> list[dict[str, Any]] | None:
        """A renewal's or change's snapshot against the endorsed one it replaces, field by field
        (null for a new application, or before submission)."""
        changes = application_changes(application)
        return None if changes is None else FieldChangeOutput(changes, many=True).data

    @extend_schema_field(serializers.DictField(child=PreviousJudgementOutput(many=True)))
    def get_previous_judgements(self, application: Application) -> dict[str, Any]:
        """The judgements behind the endorsement this application replaces, by criterion code
        (the body's staff only; empty for anyone else and for a new application)."""
        if not is_body_staff(_user(self)):
            return {}
        return previous_judgements(application)

    @extend_schema_field(ReviewSummary(many=True))
    def get_reviews(self, application: Application) -> list[dict[str, Any]]:
        reviews = application.reviews.select_related("reviewer", "application")
        return ReviewSummary(reviews, many=True, context=self.context).data

    def get_endorsement(self, application: Application) -> int | None:
        return Endorsement.objects.filter(application=application).values_list("pk", flat=True).first()

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=APPLICATION_TRANSITIONS)))
    def get_transitions(self, application: Application) -> list[str]:
        """What the caller may do now; POST to the sub-route of the same name (underscores as hyphens)."""
        return allowed_transitions(application, _user(self), APPLICATION_TRANSITIONS)

    @extend_schema_field(AuditEventOutput(many=True))
    def get_audit(self, application: Application) -> list[dict[str, Any]]:
        return AuditEventOutput(audit_for(application), many=True, context=self.context).data


class ApplicationCreateInput(serializers.Serializer):
    programme = serializers.SlugRelatedField(slug_field="public_id", queryset=Programme.objects.none(),
                                             help_text="The programme's public UUID.")

    def __init__(self, *args: Any, programmes: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if programmes is not None:
            self.fields["programme"].queryset = programmes


class ReviewDepthInput(serializers.Serializer):
    depth = serializers.ChoiceField(choices=ReviewDepth.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    help_text="Why the change is minor (required for minor).")


class CommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class RequiredCommentInput(serializers.Serializer):
    comment = serializers.CharField(allow_blank=True)


class MessageInput(serializers.Serializer):
    message = serializers.CharField(allow_blank=True)


class AssignReviewerInput(serializers.Serializer):
    reviewer = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())


# --- Reviews --------------------------------------------------------------------------------------
class JudgementOutput(serializers.ModelSerializer):
    criterion = serializers.CharField(source="criterion.code")

    class Meta:
        model = Judgement
        fields = ["criterion", "verdict", "comment", "updated_at"]


class ReviewListOutput(serializers.ModelSerializer):
    application = serializers.IntegerField(source="application_id")
    application_state = serializers.CharField(source="application.state")
    programme = ProgrammeBrief(source="application.programme", read_only=True, allow_null=True)
    pathway = PathwayBrief(source="application.pathway", read_only=True, allow_null=True)
    organisation = serializers.SlugRelatedField(source="application.organisation", slug_field="slug",
                                                read_only=True)
    complete = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "application", "application_state", "programme", "pathway", "organisation", "assigned_at",
                  "completed_at", "completed_revision", "complete"]

    def get_complete(self, review: Review) -> bool:
        return review.is_complete and review.completed_revision == review.application.revision


class ReviewOutput(ReviewListOutput):
    revision = serializers.IntegerField(source="application.revision")
    snapshot = serializers.JSONField(source="application.snapshot")
    snapshot_sha256 = serializers.CharField(source="application.snapshot_sha256")
    criteria_table = CriteriaTableOutput(source="application.criteria_table", read_only=True)
    judgements = JudgementOutput(many=True, read_only=True)

    class Meta(ReviewListOutput.Meta):
        fields = [*ReviewListOutput.Meta.fields, "revision", "snapshot", "snapshot_sha256", "criteria_table",
                  "judgements", "summary"]


class JudgementInput(serializers.Serializer):
    criterion = serializers.CharField()
    # Checked against the pinned table by the service (unknown codes, not applicable on a required one).
    verdict = serializers.CharField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class JudgementsInput(serializers.Serializer):
    judgements = JudgementInput(many=True, allow_empty=False)


class ReviewCompleteInput(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, default="")


# --- Endorsements ---------------------------------------------------------------------------------
class EndorsementListOutput(serializers.ModelSerializer):
    programme = ProgrammeBrief(read_only=True, allow_null=True)
    pathway = PathwayBrief(read_only=True, allow_null=True)
    state = _state_field(EndorsementState.choices)
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Endorsement
        fields = ["id", "public_id", "application", "programme", "pathway", "organisation", "state", "version",
                  "valid_from",
                  "valid_until", "published_at", "state_changed_at", "signed_at", "predecessor"]


class EndorsementOutput(EndorsementListOutput):
    transitions = serializers.SerializerMethodField()
    audit = serializers.SerializerMethodField()

    successor = serializers.SerializerMethodField()
    achievement = serializers.SerializerMethodField()
    renewal_opens_at = serializers.SerializerMethodField()
    renewal_refused_because = serializers.SerializerMethodField()

    class Meta(EndorsementListOutput.Meta):
        fields = [*EndorsementListOutput.Meta.fields, "successor", "achievement", "renewal_opens_at",
                  "renewal_refused_because", "comment", "credential", "transitions", "audit"]

    def get_successor(self, endorsement: Endorsement) -> int | None:
        """The endorsement that renews or revises this one, once granted."""
        successor = endorsement.successor
        return successor.pk if successor else None

    def get_achievement(self, endorsement: Endorsement) -> str:
        """The id of the Achievement (the programme or pathway version) this endorsement endorses."""
        return endorsed_achievement_id(endorsement)

    def get_renewal_opens_at(self, endorsement: Endorsement) -> Any:
        return serializers.DateTimeField().to_representation(renewal_opens_at(endorsement))

    def get_renewal_refused_because(self, endorsement: Endorsement) -> str | None:
        """Why POST …/renew would be refused now (null: a renewal can be opened)."""
        return renewal_refusal(endorsement)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ENDORSEMENT_TRANSITIONS)))
    def get_transitions(self, endorsement: Endorsement) -> list[str]:
        return allowed_transitions(endorsement, _user(self), ENDORSEMENT_TRANSITIONS)

    @extend_schema_field(AuditEventOutput(many=True))
    def get_audit(self, endorsement: Endorsement) -> list[dict[str, Any]]:
        return AuditEventOutput(audit_for(endorsement), many=True, context=self.context).data
