"""The pathway part of `manage.py seed_demo` (endorsement/management/commands/seed_demo.py calls
`seed_pathway_demo`): a published, endorsed pathway of three components — two programmes of this
server from different organisations and one external achievement whose badge the demo signs with a
did:key issuer of its own — and a demo learner who completed it, with their pathway credential and
ClrCredential. Built through the same services as the pages and the API; safe to repeat (each step
looks its object up first)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

from django.utils import timezone

from badges import credentials as vc
from badges.awards import award_issue
from badges.models import Award, Programme
from endorsement import services
from endorsement.models import ApplicationState
from institutions.models import Organisation
from pathways.completion import completion_open, credential_present
from pathways.completion_models import Completion, CompletionState
from pathways.models import Pathway

LEARNER_EMAIL = "hanako.yamada@learner.example.jp"
LEARNER_NAME = "山田 花子"
EXTERNAL_ACHIEVEMENT = "https://mooc.example.org/courses/health-informatics-basics/achievement"
# The demo MOOC's key, derived from a fixed phrase: it signs demo badges only, and anyone may re-derive it.
MOOC_KEY = vc.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"seed_demo: Example MOOC issuer").digest())
MOOC_DID = vc.did_key_from_public_key(MOOC_KEY.public_key())

PATHWAY = {
    "slug": "data-informed-nursing",
    "name_en": "Data-Informed Nursing Practice", "name_ja": "データに基づく看護実践パスウェイ",
    "description_en": "Nurses learn to read and question data, apply it at the bedside in simulation, and "
                      "understand the health information systems the data comes from.",
    "description_ja": "看護師がデータを読み解き批判的に吟味する力を身につけ、シミュレーションで臨床に活かし、"
                      "データの出どころである医療情報システムを理解する。",
    "learning_outcomes": ["Use patient and ward data to recognise deterioration early",
                          "Explain the limits of the data a health information system holds"],
    "learning_hours": "58", "level": "EQF 5", "level_framework": "European Qualifications Framework",
    "assessment_of_whole": "The acute care simulation's OSCE is assessed with the data literacy outcomes in mind: "
                           "escalation decisions must cite the early warning score trend.",
    "quality_assurance": "The MOOC's course is reviewed yearly by its university's e-learning committee; its "
                         "badges are signed and carry a status list.",
    "stackability": "Counts towards Minato University's Certificate in Health Data.",
    "responsible_person": "Prof. Taro Suzuki", "language": "ja",
}


def _data(literacy: Programme, simulation: Programme) -> dict[str, Any]:
    return {**PATHWAY, "components": [
        {"code": "data-literacy", "programme": str(literacy.public_id)},
        {"code": "simulation", "programme": str(simulation.public_id)},
        {"code": "informatics", "achievement_url": EXTERNAL_ACHIEVEMENT, "issuer_id": MOOC_DID,
         "issuer_name": "Example MOOC", "name_en": "Health Informatics Basics (MOOC)",
         "name_ja": "医療情報学の基礎（MOOC）", "description_en": "Health information systems, standards and privacy.",
         "description_ja": "医療情報システム、標準規格とプライバシー。", "hours": "12"},
    ], "rules": [
        {"kind": "all", "components": ["data-literacy", "simulation", "informatics"]},
        {"kind": "order", "components": ["data-literacy", "simulation"]},
    ]}


def external_badge() -> dict[str, Any]:
    """The learner's badge from the demo MOOC (did:key), as they would download it."""
    issued = (timezone.now() - timedelta(days=30)).replace(microsecond=0)
    document = vc.build_open_badge_credential(
        id=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, EXTERNAL_ACHIEVEMENT + LEARNER_EMAIL)}",
        issuer=vc.build_profile(id=MOOC_DID, name="Example MOOC", url="https://mooc.example.org/"),
        achievement=vc.build_achievement(id=EXTERNAL_ACHIEVEMENT, name="Health Informatics Basics",
                                         description="Health information systems, standards and privacy.",
                                         criteria_narrative="Pass the six weekly quizzes and the final exam."),
        valid_from=issued, awarded_date=issued, recipient_identity=[vc.build_email_identity(LEARNER_EMAIL)])
    return vc.sign(document, MOOC_KEY, vc.did_key_verification_method(MOOC_KEY.public_key()), issued)


def _award(programme: Programme, issuer: Any) -> Award:
    found = Award.objects.filter(programme=programme, recipient_email=LEARNER_EMAIL, revoked_at__isnull=True).first()
    return found or award_issue(actor=issuer, programme=programme, recipient_email=LEARNER_EMAIL,
                                recipient_name=LEARNER_NAME)


def seed_pathway_demo(seeder: Any) -> Completion:
    """Create what is missing of the demo pathway and its completed learner (see the module)."""
    from pathways.services import pathway_create

    minato = Organisation.objects.get(slug="minato-university")
    literacy = Programme.objects.get(organisation=minato, slug="data-literacy-for-business")
    simulation = Programme.objects.get(organisation__slug="sakura-nursing-college", slug="acute-care-simulation")
    pathway = Pathway.objects.filter(organisation=minato, slug=PATHWAY["slug"]).first()
    if pathway is None:
        pathway = pathway_create(actor=seeder.user("editor"), organisation=minato, data=_data(literacy, simulation))
        seeder.created["pathway"] += 1
    app = pathway.applications.order_by("-created_at", "-pk").first()
    if app is None:
        app = services.pathway_application_create(actor=seeder.user("editor"), pathway=pathway)
    seeder.walk(app, seeder.user("editor"), {
        "to": ApplicationState.PUBLISHED, "reviewers": ["reviewer", "reviewer2"],
        "summary": "The components build on each other; the external MOOC is quality assured.",
        "decision": "Endorsed as a coherent pathway for three years."})
    completion = Completion.objects.filter(pathway=pathway, learner_email=LEARNER_EMAIL).first()
    if completion is None:
        completion, _link = completion_open(actor=seeder.user("issuer"), pathway=pathway,
                                            learner_email=LEARNER_EMAIL, learner_name=LEARNER_NAME)
        seeder.created["pathway completion"] += 1
    if completion.state == CompletionState.OPEN:
        for code, credential in (("informatics", external_badge()),
                                 ("data-literacy", _award(literacy, seeder.user("issuer")).credential),
                                 ("simulation", _award(simulation, seeder.user("sakura-owner")).credential)):
            completion.refresh_from_db()
            if completion.state == CompletionState.OPEN and not any(p["component"] == code
                                                                    for p in completion.presented):
                credential_present(completion=completion, component_code=code, credential=credential)
        completion.refresh_from_db()
    return completion
