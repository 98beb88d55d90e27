"""config.fsm: why a transition is refused, in whole sentences (the API, the pages and the admin show
them as they are), and which transitions a user may take now."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.utils import translation
from django_fsm import FSMFieldMixin

from config.errors import NotPermitted, WrongState
from config.fsm import ACTIONS, OBJECTS, allowed_transitions, check_transition
from endorsement import services
from endorsement.models import ApplicationState, Concern, QualityReview
from institutions.models import MembershipState
from tests.factories import application_in, judge_all

S = ApplicationState


def refusal(instance, name: str, user) -> tuple[type[Exception], str]:
    with pytest.raises((WrongState, NotPermitted)) as refused:
        check_transition(instance, name, user)
    return type(refused.value), refused.value.message


def every_transition():
    for model in apps.get_models():
        for field in model._meta.fields:
            if isinstance(field, FSMFieldMixin):
                for transition in field.get_all_transitions(model):
                    yield model, transition


def test_every_transition_has_its_words_and_every_condition_its_sentence():
    found = list(every_transition())
    assert len({t.name for _m, t in found}) >= 23
    for model, transition in found:
        assert transition.name in ACTIONS, (model.__name__, transition.name)
        for condition in transition.conditions:
            assert str(getattr(condition, "message", "")).endswith("."), (model.__name__, condition.__name__)


@pytest.mark.django_db
def test_not_from_this_state_names_the_action_the_object_and_the_state():
    draft, cast = application_in(S.DRAFT)
    assert refusal(draft, "publish", cast.manager) == (WrongState, "Cannot publish this application: it is draft.")
    changes, cast = application_in(S.CHANGES_REQUESTED)
    assert refusal(changes, "endorse", cast.manager) == (
        WrongState, "Cannot endorse this application: it is changes requested.")
    # The state comes first: a user who may not take the transition anyway is told the state.
    assert refusal(changes, "start_review", cast.editor) == (
        WrongState, "Cannot start review of this application: it is changes requested.")


def test_an_object_missing_from_the_words_is_named_by_its_model():
    # Built in memory, never saved: the refusal is decided from the state alone.
    assert refusal(QualityReview(), "close_no_change", None) == (
        WrongState, "Cannot close without change this quality review: it is open.")
    assert refusal(Concern(state="dismissed"), "open_review", None) == (
        WrongState, "Cannot open a review of this concern: it is dismissed.")


def test_an_object_in_the_words_is_named_by_them_not_by_its_model_in_every_language(monkeypatch):
    # The table is keyed by the model's English name; its words (the "transition object" context)
    # are what the sentence shows, in Japanese too (before, the Japanese key was the translated
    # name, so the table was never read there). Words of our own make the lookup visible: the
    # shipped catalogues happen to translate both contexts alike.
    monkeypatch.setitem(OBJECTS, "quality review", "review of the body's work")
    assert refusal(QualityReview(), "close_no_change", None) == (
        WrongState, "Cannot close without change this review of the body's work: it is open.")
    monkeypatch.setitem(OBJECTS, "quality review", "機関の仕事の見直し")
    with translation.override("ja"):
        assert refusal(QualityReview(), "close_no_change", None) == (
            WrongState, "機関の仕事の見直しが「開始」の状態のため、変更なしで終了できません。")


def test_a_state_the_code_no_longer_lists_is_shown_with_spaces():
    review = QualityReview()
    review.__dict__["state"] = "on_hold_legacy"  # e.g. a row written by an older version
    assert refusal(review, "suspend", None) == (
        WrongState, "Cannot suspend this quality review: it is on hold legacy.")


@pytest.mark.django_db
def test_the_refusal_is_translated_word_by_word():
    draft, cast = application_in(S.DRAFT)
    with translation.override("ja"):
        assert refusal(draft, "publish", cast.manager) == (WrongState, "申請が「下書き」の状態のため、公開できません。")
        assert refusal(draft, "submit", cast.manager) == (NotPermitted, "この申請を提出する権限がありません。")


@pytest.mark.django_db
def test_who_may_not_is_told_so_before_any_condition():
    in_review, cast = application_in(S.IN_REVIEW)
    # The criteria are not met yet either: the permission is what the editor is told.
    assert refusal(in_review, "endorse", cast.editor) == (NotPermitted, "You may not endorse this application.")
    assert refusal(in_review, "endorse", cast.manager) == (
        WrongState,
        "Every assigned review must be complete and every required criterion judged met by every reviewer.")
    # Without a user (a system task) only the state and the conditions are checked.
    assert refusal(in_review, "endorse", None)[0] is WrongState
    assert check_transition(in_review, "request_changes", None) is None
    assert check_transition(in_review, "request_changes", cast.manager) is None


@pytest.mark.django_db
def test_every_unmet_condition_is_said_in_order():
    draft, cast = application_in(S.DRAFT)
    draft.programme.name_en = draft.programme.name_ja = ""
    draft.programme.save()
    draft.organisation.__dict__["membership"] = MembershipState.SUSPENDED
    draft.organisation.save()
    draft.refresh_from_db()
    assert refusal(draft, "submit", cast.editor) == (
        WrongState,
        "The programme is incomplete: fill in every required field first. "
        "Only an active member organisation may apply.")


@pytest.mark.django_db
def test_allowed_transitions_are_those_of_the_state_the_user_and_the_conditions_in_the_order_asked():
    names = ["submit", "start_review", "request_changes", "endorse", "reject", "withdraw", "publish"]
    in_review, cast = application_in(S.IN_REVIEW)
    assert allowed_transitions(in_review, cast.manager, names) == ["request_changes", "reject"]
    assert allowed_transitions(in_review, cast.editor, names) == []
    assert allowed_transitions(in_review, cast.manager, ["reject", "request_changes"]) == ["reject", "request_changes"]
    judge_all(in_review, cast.reviewer)
    services.review_complete(actor=cast.reviewer, review=in_review.reviews.get())
    in_review.refresh_from_db()
    assert allowed_transitions(in_review, cast.manager, names) == ["request_changes", "endorse", "reject"]
    draft, cast = application_in(S.DRAFT)
    assert allowed_transitions(draft, cast.editor, names) == ["submit", "withdraw"]
    assert allowed_transitions(draft, cast.manager, names) == []
