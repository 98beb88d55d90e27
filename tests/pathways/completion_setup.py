"""A pathway of three components for completion tests: two endorsed programmes of this server from
different organisations (badges awarded by the real services) and one external achievement whose
badges a did:key issuer signs; rules: all three, and programme A before programme B."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from badges import credentials as vc
from badges.awards import award_issue
from badges.models import Award, Programme
from badges.status import status_list_publish
from pathways.models import Pathway, PathwayComponent, PathwayRule, RuleKind, RuleMember
from tests.factories import awarding_setup

LEARNER = "hanako@example.org"
LEARNER_NAME = "山田 花子"
EXTERNAL_ACHIEVEMENT = "https://mooc.example/achievements/python-basics"


@dataclass
class Setup:
    pathway: Pathway
    programme_a: Programme
    programme_b: Programme
    issuer_a: Any  # an issuer of the pathway's organisation (A's)
    issuer_b: Any
    mooc_key: vc.Ed25519PrivateKey
    cast_a: Any

    @property
    def mooc_did(self) -> str:
        return vc.did_key_from_public_key(self.mooc_key.public_key())

    def award(self, programme: Programme, email: str = LEARNER, name: str = LEARNER_NAME) -> Award:
        issuer = self.issuer_a if programme == self.programme_a else self.issuer_b
        award = award_issue(actor=issuer, programme=programme, recipient_email=email, recipient_name=name)
        status_list_publish(award.status.status_list_id)  # as the on-commit task does
        return award

    def external_badge(self, *, key: vc.Ed25519PrivateKey | None = None, email: str = LEARNER,
                       achievement_id: str = EXTERNAL_ACHIEVEMENT, **changes: Any) -> dict[str, Any]:
        key = key or self.mooc_key
        did = vc.did_key_from_public_key(key.public_key())
        now = timezone.now().replace(microsecond=0)
        document = vc.build_open_badge_credential(
            id=f"urn:uuid:{uuid.uuid4()}", issuer=vc.build_profile(id=did, name="MOOC Example", url="https://mooc.example/"),
            achievement=vc.build_achievement(id=achievement_id, name="Python basics",
                                             description="Variables, loops and functions.",
                                             criteria_narrative="Pass the final quiz."),
            valid_from=changes.pop("valid_from", now - timedelta(days=2)), awarded_date=now - timedelta(days=2),
            recipient_identity=[vc.build_email_identity(email)], **changes)
        return vc.sign(document, key, vc.did_key_verification_method(key.public_key()))


def pathway_setup() -> Setup:
    programme_a, app_a, cast_a, issuer_a = awarding_setup(name_en="Data literacy A")
    programme_b, app_b, _cast_b, issuer_b = awarding_setup(name_en="Data analysis B")
    for app in (app_a, app_b):  # the endorsements' status list, as the on-commit task publishes it
        status_list_publish(app.endorsement.status.status_list_id)
    mooc_key = vc.generate_private_key()
    mooc_did = vc.did_key_from_public_key(mooc_key.public_key())
    pathway = Pathway.objects.create(
        organisation=cast_a.organisation, slug="data-pathway", name_en="Data pathway", name_ja="データ履修パス",
        description_en="Literacy, analysis and programming.", description_ja="リテラシー、分析、プログラミング。",
        learning_outcomes=["Analyse data"], learning_hours="70", assessment_of_whole="A portfolio review.",
        responsible_person="Prof. Sato")
    a = PathwayComponent.objects.create(pathway=pathway, code="a", position=1, programme=programme_a)
    b = PathwayComponent.objects.create(pathway=pathway, code="b", position=2, programme=programme_b)
    ext = PathwayComponent.objects.create(pathway=pathway, code="python", position=3,
                                          achievement_url=EXTERNAL_ACHIEVEMENT, issuer_id=mooc_did,
                                          issuer_name="MOOC Example", name_en="Python basics (MOOC)", hours="10")
    everything = PathwayRule.objects.create(pathway=pathway, kind=RuleKind.ALL, position=1)
    for position, component in enumerate((a, b, ext)):
        RuleMember.objects.create(rule=everything, component=component, position=position)
    order = PathwayRule.objects.create(pathway=pathway, kind=RuleKind.ORDER, position=2)
    RuleMember.objects.create(rule=order, component=a, position=0)
    RuleMember.objects.create(rule=order, component=b, position=1)
    return Setup(pathway, programme_a, programme_b, issuer_a, issuer_b, mooc_key, cast_a)


def endorse_pathway(setup: Setup):
    """The pathway's application walked through the real review services to published, its
    EndorsementCredential signed and its status list published (as the on-commit tasks would)."""
    from endorsement import services
    from endorsement.credentials import endorsement_sign

    cast = setup.cast_a
    app = services.pathway_application_create(actor=cast.editor, pathway=setup.pathway)
    app = services.application_submit(actor=cast.editor, application=app)
    services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=cast.reviewer)
    app = services.application_start_review(actor=cast.manager, application=app)
    review = app.reviews.get(reviewer=cast.reviewer)
    services.review_record_judgements(actor=cast.reviewer, review=review, judgements=[
        {"criterion": c.code, "verdict": "met", "comment": "ok"} for c in app.criteria_table.criteria.all()])
    services.review_complete(actor=cast.reviewer, review=review)
    endorsement = services.application_endorse(actor=cast.manager, application=app, comment="Coherent.")
    endorsement_sign(endorsement.pk)
    app = services.application_publish(actor=cast.manager, application=app)
    status_list_publish(app.endorsement.status.status_list_id)
    return app
