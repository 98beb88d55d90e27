"""The endorsement rule as one pure function, and an adapter that feeds it an application.

Rule (from the criteria table): a programme may be endorsed only when at least one reviewer is
assigned, every assigned review is complete, and every reviewer judged every *required* criterion
`met`. Optional criteria may be judged anything (including not applicable); they inform, not block.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext, pgettext_lazy

# How a verdict reads inside a reason ("… judged required criterion LO: not met.").
VERDICT_WORDS = {
    "met": pgettext_lazy("verdict in a sentence", "met"),
    "partially_met": pgettext_lazy("verdict in a sentence", "partially met"),
    "not_met": pgettext_lazy("verdict in a sentence", "not met"),
    "not_applicable": pgettext_lazy("verdict in a sentence", "not applicable"),
    None: pgettext_lazy("verdict in a sentence", "no judgement"),
}


@dataclass(frozen=True)
class ReviewFacts:
    reviewer: str
    complete: bool
    verdicts: Mapping[str, str]  # criterion code -> verdict
    comments: Mapping[str, str] = field(default_factory=dict)  # criterion code -> the reviewer's comment


@dataclass(frozen=True)
class RuleResult:
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    # The same reasons in machine-readable form: each required criterion a reviewer did not judge
    # met ({"criterion", "reviewer", "verdict", "comment"}; verdict None when not judged), and the
    # reviewers whose review is not complete for the current revision.
    unmet: list[dict[str, str | None]] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)


def criteria_rule(required_codes: Iterable[str], reviews: Iterable[ReviewFacts], *,
                  min_reviewers: int = 1) -> RuleResult:
    """Decide whether the reviews allow an endorsement; list every reason they do not.
    `min_reviewers`: how many reviews the body asks for (a change marked minor: one)."""
    required = list(required_codes)
    reviews = list(reviews)
    reasons: list[str] = []
    unmet: list[dict[str, str | None]] = []
    incomplete: list[str] = []
    if not reviews:
        reasons.append(gettext("No reviewer is assigned."))
    elif len(reviews) < min_reviewers:
        reasons.append(gettext("A full review needs %(n)d reviewers; %(have)d assigned.")
                       % {"n": min_reviewers, "have": len(reviews)})
    for review in reviews:
        if not review.complete:
            reasons.append(gettext("%(reviewer)s has not completed the review.") % {"reviewer": review.reviewer})
            incomplete.append(review.reviewer)
            continue
        for code in required:
            verdict = review.verdicts.get(code)
            if verdict != "met":
                shown = str(VERDICT_WORDS.get(verdict) or verdict.replace("_", " "))
                reasons.append(gettext("%(reviewer)s judged required criterion %(code)s: %(verdict)s.")
                               % {"reviewer": review.reviewer, "code": code, "verdict": shown})
                unmet.append({"criterion": code, "reviewer": review.reviewer, "verdict": verdict,
                              "comment": review.comments.get(code, "")})
    return RuleResult(allowed=not reasons, reasons=reasons, unmet=unmet, incomplete=incomplete)


def reviewers_required(application) -> int:
    """How many reviews the endorse rule asks of an application: one for a change a manager marked
    minor, else the body's ENDORSEMENT_MIN_REVIEWERS (at least one)."""
    if application.review_depth == "minor":
        return 1
    return max(1, settings.ENDORSEMENT_MIN_REVIEWERS)


def endorsement_allowed(application) -> RuleResult:
    """Apply `criteria_rule` to an application's pinned criteria table and its current reviews."""
    if application.criteria_table_id is None:
        return RuleResult(False, [gettext("The application has no criteria table pinned.")])
    required = [c.code for c in application.criteria_table.criteria.all() if c.required]
    facts = [
        ReviewFacts(
            reviewer=review.reviewer.get_username(),
            complete=review.is_complete and review.completed_revision == application.revision,
            verdicts={j.criterion.code: j.verdict for j in review.judgements.all()},
            comments={j.criterion.code: j.comment for j in review.judgements.all()},
        )
        for review in application.reviews.select_related("reviewer").prefetch_related("judgements__criterion")
    ]
    return criteria_rule(required, facts, min_reviewers=reviewers_required(application))
