"""What each side reads of the reviewers' judgements.

- The body's managers read every judgement of every review (`judgements_of`).
- When changes are requested, the applying organisation reads which criteria were not met and the
  reviewers' comments and summaries (`changes_feedback`). Reviewers are named unless the body hides
  their names (`REVIEWER_NAMES_SHOWN = False`): then they read "Reviewer 1", "Reviewer 2", numbered
  in the order they were assigned.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from endorsement.models import Application, ApplicationState, Judgement, Review, Verdict

NOT_MET = {Verdict.NOT_MET, Verdict.PARTIALLY_MET}


def _reviews(application: Application) -> list[Review]:
    return list(application.reviews.select_related("reviewer").order_by("assigned_at", "pk"))


def reviewer_names_shown() -> bool:
    return bool(getattr(settings, "REVIEWER_NAMES_SHOWN", True))


def _labels(reviews: list[Review], *, names: bool) -> dict[int, str]:
    if names:
        return {r.pk: r.reviewer.get_full_name() or r.reviewer.get_username() for r in reviews}
    return {r.pk: _("Reviewer %(n)d") % {"n": i} for i, r in enumerate(reviews, start=1)}


def _judgements(reviews: list[Review]) -> list[Judgement]:
    return list(Judgement.objects.filter(review__in=reviews).select_related("criterion", "review")
                .order_by("criterion__position", "criterion__code", "review__assigned_at", "review__pk"))


def judgements_of(application: Application) -> list[dict[str, Any]]:
    """Every judgement of every review (for the body's managers), criterion by criterion."""
    reviews = _reviews(application)
    return [
        {"review": j.review_id, "reviewer": j.review.reviewer.get_username(), "criterion": j.criterion.code,
         "required": j.criterion.required, "verdict": j.verdict, "comment": j.comment,
         "updated_at": j.updated_at.isoformat(),
         "review_complete": j.review.is_complete and j.review.completed_revision == application.revision}
        for j in _judgements(reviews)
    ]


def changes_feedback(application: Application) -> dict[str, Any] | None:
    """While changes are requested: the criteria a reviewer judged not met or partially met (required
    or not), each with the reviewer and their comment, and each completed review's summary. None in
    any other state."""
    if application.state != ApplicationState.CHANGES_REQUESTED:
        return None
    reviews = _reviews(application)
    labels = _labels(reviews, names=reviewer_names_shown())
    unmet = [
        {"criterion": j.criterion.code, "title_en": j.criterion.title_en, "title_ja": j.criterion.title_ja,
         "required": j.criterion.required, "reviewer": labels[j.review_id], "verdict": j.verdict,
         "comment": j.comment}
        for j in _judgements(reviews) if j.verdict in NOT_MET
    ]
    summaries = [{"reviewer": labels[r.pk], "summary": r.summary} for r in reviews if r.summary.strip()]
    return {"message": application.changes_message, "unmet_criteria": unmet, "reviews": summaries,
            "reviewer_names_shown": reviewer_names_shown()}
