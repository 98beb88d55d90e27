"""A pathway of two programmes of different organisations and one external achievement, walked
through the real services (the same review machinery as a programme)."""

from __future__ import annotations

from typing import Any

from endorsement import services
from endorsement.credentials import endorsement_sign
from endorsement.models import ApplicationState
from pathways.services import pathway_create
from tests.factories import Cast, OrganisationFactory, ProgrammeFactory, application_in

EXTERNAL = "https://mooc.example.org/achievements/statistics-101"
EXTERNAL_ISSUER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def pathway_data(first, second) -> dict[str, Any]:
    return {
        "name_en": "Data analyst pathway", "name_ja": "データアナリスト・パスウェイ",
        "description_en": "From data literacy to a supervised analysis project.",
        "description_ja": "データリテラシーから指導付きの分析プロジェクトまで。",
        "learning_outcomes": ["Analyse a business data set end to end"],
        "learning_hours": "70", "level": "5", "level_framework": "EQF",
        "assessment_of_whole": "A capstone project assessed by two examiners.",
        "quality_assurance": "The MOOC's badge is accredited by its university.",
        "responsible_person": "Prof. Hanako Sato", "language": "en",
        "components": [
            {"code": "literacy", "programme": str(first.public_id)},
            {"code": "stats", "achievement_url": EXTERNAL, "issuer_id": EXTERNAL_ISSUER,
             "issuer_name": "Example MOOC", "name_en": "Statistics 101", "name_ja": "統計学入門",
             "description_en": "Descriptive statistics and inference.", "description_ja": "記述統計と推測統計。",
             "hours": "10"},
            {"code": "project", "programme": str(second.public_id), "is_capstone": True},
        ],
        "rules": [
            {"kind": "all", "components": ["literacy"]},
            {"kind": "at_least_hours", "components": ["stats"], "hours": "10"},
            {"kind": "order", "components": ["literacy", "project"]},
        ],
    }


def endorsed_programmes():
    first, _ = application_in(ApplicationState.PUBLISHED)
    second, _ = application_in(ApplicationState.PUBLISHED)
    return first.programme, second.programme


def pathway_in(state: str, cast: Cast | None = None, programmes=None, **changes: Any):
    """A pathway and its application walked to `state`; returns (application, cast, pathway).
    `changes` replace fields of `pathway_data` (a pathway written in Japanese, say)."""
    cast = cast or Cast(OrganisationFactory())
    first, second = programmes or (ProgrammeFactory(), ProgrammeFactory())
    data = {**pathway_data(first, second), **changes}
    pathway = pathway_create(actor=cast.editor, organisation=cast.organisation, data=data)
    app = services.pathway_application_create(actor=cast.editor, pathway=pathway)
    if state == ApplicationState.DRAFT:
        return app, cast, pathway
    app = services.application_submit(actor=cast.editor, application=app)
    if state == ApplicationState.SUBMITTED:
        return app, cast, pathway
    services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=cast.reviewer)
    app = services.application_start_review(actor=cast.manager, application=app)
    if state == ApplicationState.IN_REVIEW:
        return app, cast, pathway
    review = app.reviews.get(reviewer=cast.reviewer)
    services.review_record_judgements(actor=cast.reviewer, review=review, judgements=[
        {"criterion": c.code, "verdict": "met", "comment": "ok"} for c in app.criteria_table.criteria.all()])
    services.review_complete(actor=cast.reviewer, review=review)
    endorsement = services.application_endorse(actor=cast.manager, application=app, comment="Coherent.")
    endorsement_sign(endorsement.pk)
    app.refresh_from_db()
    if state == ApplicationState.ENDORSED:
        return app, cast, pathway
    app = services.application_publish(actor=cast.manager, application=app)
    return app, cast, pathway
