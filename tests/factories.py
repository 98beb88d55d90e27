"""factory_boy factories, including applications already walked (through the real services) to
any state of the workflow: `application_in(state)`."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from badges.models import Programme
from endorsement import services
from endorsement.credentials import endorsement_sign
from endorsement.models import Application, ApplicationState, CriteriaTable, TableStatus
from institutions.models import MembershipState, Organisation, Role, StaffMember

PASSWORD = "correct horse battery staple"


def login_request():
    """The request `client.login(request=login_request(), ...)` passes to `authenticate`: the login
    lockout (django-axes) counts every attempt against a request's client address, and refuses an
    authentication that has none."""
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR="127.0.0.1")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    """An organisation; `membership` may be given (set directly: factories build fixtures, the
    membership services are tested on their own)."""

    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Example University {n}")
    name_ja = factory.Sequence(lambda n: f"例示大学{n}")
    slug = factory.Sequence(lambda n: f"example-{n}")
    kind = "university"
    contact_name = "Hanako Yamada"
    contact_email = factory.Sequence(lambda n: f"contact{n}@example.org")

    @classmethod
    def _create(cls, model_class, *args, membership=MembershipState.ACTIVE, **kwargs):
        obj = model_class(*args, **kwargs)
        # The FSM field is protected: bypass it on purpose, for fixtures only.
        obj.__dict__["membership"] = membership
        obj.save()
        return obj


def body() -> Organisation:
    return Organisation.objects.get(is_certification_body=True)


def staff(organisation: Organisation, role: str, **user_kwargs: Any):
    """A user with a role in an organisation (body roles make an admin-capable user)."""
    is_body = role in {Role.REVIEWER, Role.MANAGER}
    user = UserFactory(is_staff=is_body, **user_kwargs)
    StaffMember.objects.create(user=user, organisation=organisation, role=role)
    return user


def manager(**kw: Any):
    return staff(body(), Role.MANAGER, **kw)


def reviewer(**kw: Any):
    return staff(body(), Role.REVIEWER, **kw)


COMPLETE_PROGRAMME = {
    "name_en": "Data literacy for business",
    "name_ja": "ビジネスのためのデータリテラシー",
    "description_en": "Reading, cleaning and presenting business data.",
    "description_ja": "ビジネスデータの読み取り・整形・提示。",
    "criteria_narrative": "Pass three assessed assignments with at least 60%.",
    "learning_outcomes": ["Clean a tabular data set", "Choose an appropriate chart", "Explain a trend"],
    "learning_hours": "30.0",
    "level": "Level 5",
    "level_framework": "European Qualifications Framework",
    "assessment_method": "Three graded assignments and a supervised online test.",
    "evidence_policy": "Graded work is kept for five years and linked from each badge.",
    "quality_assurance": "Internal review each academic year by the curriculum committee.",
    "responsible_person": "Prof. Taro Suzuki",
    "tags": ["data", "business"],
    "alignments": [{"name": "Data literacy", "url": "https://example.org/frameworks/dl", "framework": "DigComp"}],
}


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    organisation = factory.SubFactory(OrganisationFactory)
    slug = factory.Sequence(lambda n: f"programme-{n}")
    name_en = factory.Sequence(lambda n: f"Data literacy {n}")
    name_ja = COMPLETE_PROGRAMME["name_ja"]
    description_en = COMPLETE_PROGRAMME["description_en"]
    description_ja = COMPLETE_PROGRAMME["description_ja"]
    criteria_narrative = COMPLETE_PROGRAMME["criteria_narrative"]
    learning_outcomes = factory.LazyFunction(lambda: list(COMPLETE_PROGRAMME["learning_outcomes"]))
    learning_hours = "30.0"
    level = "Level 5"
    level_framework = "European Qualifications Framework"
    assessment_method = COMPLETE_PROGRAMME["assessment_method"]
    evidence_policy = COMPLETE_PROGRAMME["evidence_policy"]
    quality_assurance = COMPLETE_PROGRAMME["quality_assurance"]
    responsible_person = COMPLETE_PROGRAMME["responsible_person"]
    tags = factory.LazyFunction(lambda: ["data", "business"])
    alignments = factory.LazyFunction(lambda: list(COMPLETE_PROGRAMME["alignments"]))


def default_table() -> CriteriaTable:
    return CriteriaTable.objects.get(code="default", status=TableStatus.PUBLISHED)


class Cast:
    """The people around one application: an editor of the applying organisation, a manager and a
    reviewer of the body."""

    def __init__(self, organisation: Organisation | None = None) -> None:
        self.organisation = organisation or OrganisationFactory()
        self.editor = staff(self.organisation, Role.EDITOR)
        self.manager = manager()
        self.reviewer = reviewer()


def judge_all(application: Application, review_user, verdict: str = "met") -> None:
    review = application.reviews.get(reviewer=review_user)
    judgements = [
        {"criterion": c.code, "verdict": verdict, "comment": f"{c.code} looks {verdict}"}
        for c in application.criteria_table.criteria.all()
    ]
    services.review_record_judgements(actor=review_user, review=review, judgements=judgements)


def application_in(
    state: str, cast: Cast | None = None, programme: Programme | None = None
) -> tuple[Application, Cast]:
    """An application walked through the real services to `state`."""
    cast = cast or Cast()
    programme = programme or ProgrammeFactory(organisation=cast.organisation)
    app = services.application_create(actor=cast.editor, programme=programme)
    if state == ApplicationState.DRAFT:
        return app, cast
    if state == ApplicationState.WITHDRAWN:
        return services.application_withdraw(actor=cast.editor, application=app), cast
    app = services.application_submit(actor=cast.editor, application=app)
    if state == ApplicationState.SUBMITTED:
        return app, cast
    services.application_assign_reviewer(actor=cast.manager, application=app, reviewer=cast.reviewer)
    app = services.application_start_review(actor=cast.manager, application=app)
    if state == ApplicationState.IN_REVIEW:
        return app, cast
    if state == ApplicationState.CHANGES_REQUESTED:
        return services.application_request_changes(
            actor=cast.manager, application=app, message="Please state the assessment weights."), cast
    if state == ApplicationState.REJECTED:
        return services.application_reject(actor=cast.manager, application=app, comment="Out of scope."), cast
    judge_all(app, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=app.reviews.get(reviewer=cast.reviewer))
    endorsement = services.application_endorse(actor=cast.manager, application=app, comment="Meets every criterion.")
    # Tests run inside one transaction, so on_commit tasks do not fire: sign as the task would.
    endorsement_sign(endorsement.pk)
    app.refresh_from_db()
    if state == ApplicationState.ENDORSED:
        return app, cast
    app = services.application_publish(actor=cast.manager, application=app)
    assert state == ApplicationState.PUBLISHED, state
    return app, cast


def api_client(user=None):
    """A DRF test client; with a user, authenticated by that user's real API token."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def png_bytes(width: int = 2, height: int = 2, pad_to: int = 0) -> bytes:
    """A valid PNG (grey pixels); `pad_to` appends an ancillary chunk to reach that many bytes."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)))
    if pad_to > len(data) + 26:  # 12 bytes around each chunk (tEXt and IEND), 2 for the keyword
        data += chunk(b"tEXt", b"c\x00" + b"x" * (pad_to - len(data) - 26))
    return data + chunk(b"IEND", b"")


def awarding_setup(**programme_fields: Any):
    """A programme whose endorsement is in force (walked to published by the real services), its
    application and cast, and a user with the issuer role in its organisation."""
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation, **programme_fields)
    app, cast = application_in(ApplicationState.PUBLISHED, cast=cast, programme=programme)
    issuer = staff(cast.organisation, Role.ISSUER)
    return programme, app, cast, issuer


def stored_batch(rows: list[dict[str, Any]], **fields: Any):
    """An AwardBatch with these rows stored as `award_batch_create` stores them (one AwardBatchRow
    each, by position), without the service's checks or its start: for tests that need a batch in a
    given state."""
    from badges.models import AwardBatch, AwardBatchRow

    batch = AwardBatch.objects.create(**fields)
    AwardBatchRow.objects.bulk_create([AwardBatchRow(batch=batch, index=i, data=row) for i, row in enumerate(rows)])
    return batch
