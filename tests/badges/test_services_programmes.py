"""Programme writes: who may create and edit, and every kind of bad input answered with field
messages and nothing written (also what the database itself would have refused or stored unchecked)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from badges.models import Programme
from badges.services import programme_create, programme_missing_fields, programme_update
from config.errors import InvalidInput, NotPermitted
from institutions.models import Role
from tests.factories import COMPLETE_PROGRAMME, Cast, ProgrammeFactory, reviewer, staff

pytestmark = pytest.mark.django_db


def create(cast: Cast, **changes) -> Programme:
    return programme_create(actor=cast.editor, organisation=cast.organisation, data={**COMPLETE_PROGRAMME, **changes})


def test_an_editor_creates_a_complete_draft_programme_with_a_slug_from_its_name():
    cast = Cast()
    programme = create(cast)
    programme.refresh_from_db()
    assert programme.organisation == cast.organisation
    assert programme.slug == "data-literacy-for-business"
    assert programme.learning_hours == Decimal("30.0")
    assert programme_missing_fields(programme) == []
    assert create(cast).slug == "data-literacy-for-business-2"


@pytest.mark.parametrize("who", ["issuer", "editor of another organisation", "reviewer", "anonymous"])
def test_only_owners_and_editors_of_the_organisation_create_programmes(who):
    cast = Cast()
    actor = {"issuer": staff(cast.organisation, Role.ISSUER), "editor of another organisation": Cast().editor,
             "reviewer": reviewer(), "anonymous": AnonymousUser()}[who]
    with pytest.raises(NotPermitted):
        programme_create(actor=actor, organisation=cast.organisation, data=dict(COMPLETE_PROGRAMME))
    assert not Programme.objects.exists()


def test_an_owner_creates_and_edits_programmes_too():
    cast = Cast()
    owner = staff(cast.organisation, Role.OWNER)
    programme = programme_create(actor=owner, organisation=cast.organisation, data=dict(COMPLETE_PROGRAMME))
    programme_update(actor=owner, programme=programme, data={"level": "EQF 6"})
    programme.refresh_from_db()
    assert programme.level == "EQF 6"


def test_an_editor_of_another_organisation_may_not_edit():
    programme = ProgrammeFactory()
    with pytest.raises(NotPermitted):
        programme_update(actor=Cast().editor, programme=programme, data={"name_en": "Mine now"})
    programme.refresh_from_db()
    assert programme.name_en != "Mine now"


BAD_INPUT = [
    ("learning_outcomes", "Clean data", "non-empty outcome statements"),
    ("learning_outcomes", ["Clean data", "  "], "non-empty outcome statements"),
    ("learning_outcomes", [f"Outcome {i}" for i in range(51)], "At most 50"),
    ("tags", ["ok", "x" * 51], "1 to 50 characters"),
    ("tags", "data", "1 to 50 characters"),
    ("alignments", {"name": "x"}, "a list of alignments"),
    ("alignments", [{"url": "https://example.org"}], "needs a name"),
    ("alignments", [{"name": "DigComp", "url": "ftp://example.org"}], "http(s) URL"),
    ("alignments", [{"name": "DigComp", "url": "https://example.org", "script": "x"}], "unknown keys"),
    ("learning_hours", "0", "more than zero"),
    ("learning_hours", "-3", "more than zero"),
    ("learning_hours", "thirty", "as a number"),
    ("learning_hours", "NaN", "as a number"),
    ("learning_hours", [], "as a number"),
    ("learning_hours", True, "as a number"),
    ("learning_hours", "1234567", "at most 99999.9"),
    ("learning_hours", "99999.95", "at most 99999.9"),
    ("learning_hours", "7.25", "no more than 1 decimal place"),
    ("name_en", "x" * 201, "at most 200 characters"),
    ("credential_pattern", "diploma-mill", "is not a valid choice"),
    ("achievement_type", "Trophy", "is not a valid choice"),
    ("participation_form", "by post", "is not a valid choice"),
    ("validity_months", -1, "greater than or equal to 0"),
    ("validity_months", "forever", "must be an integer"),
    ("language", "x" * 17, "at most 16 characters"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT, ids=[f"{f}={v!r}"[:60] for f, v, _ in BAD_INPUT])
def test_bad_input_is_refused_with_a_field_message_and_nothing_is_created(field, value, message):
    cast = Cast()
    with pytest.raises(InvalidInput) as refused:
        create(cast, **{field: value})
    assert field in refused.value.field_errors, refused.value.field_errors
    assert any(message in m for m in refused.value.field_errors[field]), refused.value.field_errors
    assert not Programme.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT[::3], ids=[f for f, _, _ in BAD_INPUT[::3]])
def test_bad_input_leaves_an_existing_programme_unchanged(field, value, message):
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation)
    before = {f.attname: getattr(programme, f.attname) for f in Programme._meta.concrete_fields}
    with pytest.raises(InvalidInput) as refused:
        programme_update(actor=cast.editor, programme=programme, data={"level": "EQF 7", field: value})
    assert any(message in m for m in refused.value.field_errors[field])
    programme.refresh_from_db()
    after = {f.attname: getattr(programme, f.attname) for f in Programme._meta.concrete_fields}
    assert after == {**before, "learning_hours": Decimal(before["learning_hours"])}
    assert programme.level != "EQF 7"


def test_every_bad_field_is_reported_at_once():
    cast = Cast()
    with pytest.raises(InvalidInput) as refused:
        create(cast, tags="x", learning_hours="-1", credential_pattern="nope", name_en="", name_ja="")
    assert set(refused.value.field_errors) == {"tags", "learning_hours", "credential_pattern", "name_en"}


@pytest.mark.parametrize("hours", ["7.5", 7.5, 12, "99999.9", Decimal("0.5")])
def test_learning_hours_are_accepted_as_numbers_or_numeric_text(hours):
    programme = create(Cast(), learning_hours=hours)
    programme.refresh_from_db()
    assert programme.learning_hours == Decimal(str(hours))
