"""Helpers around django-fsm: explain *why* a transition is refused, and list what a user may do.

django-fsm answers yes or no (`can_proceed`, `has_transition_perm`); services need the reason, so
that the API and pages can say "the programme is incomplete" rather than "transition not allowed".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils.translation import gettext, override, pgettext_lazy

from config.errors import NotPermitted, WrongState

# The words the refusals below are made of, so that they can be translated (a Japanese sentence is not
# an English one with the words swapped). Every transition of every model is here
# (tests/endorsement/test_fsm_refusals.py checks); an object missing from OBJECTS is shown by its
# model's verbose name, itself translated.
ACTIONS = {
    "submit": pgettext_lazy("transition", "submit"),
    "resubmit": pgettext_lazy("transition", "resubmit"),
    "start_review": pgettext_lazy("transition", "start review of"),
    "request_changes": pgettext_lazy("transition", "request changes to"),
    "endorse": pgettext_lazy("transition", "endorse"),
    "publish": pgettext_lazy("transition", "publish"),
    "retire": pgettext_lazy("transition", "retire"),
    "reject": pgettext_lazy("transition", "reject"),
    "withdraw": pgettext_lazy("transition", "withdraw"),
    "approve": pgettext_lazy("transition", "approve"),
    "suspend": pgettext_lazy("transition", "suspend"),
    "reinstate": pgettext_lazy("transition", "reinstate"),
    "revoke": pgettext_lazy("transition", "revoke"),
    "expire": pgettext_lazy("transition", "expire"),
    "start": pgettext_lazy("transition", "start"),
    "supersede": pgettext_lazy("transition", "supersede"),
    "accept": pgettext_lazy("transition", "accept"),
    "open_review": pgettext_lazy("transition", "open a review of"),
    "dismiss": pgettext_lazy("transition", "dismiss"),
    "close_no_change": pgettext_lazy("transition", "close without change"),
    "impose_conditions": pgettext_lazy("transition", "impose conditions on"),
    "conditions_met": pgettext_lazy("transition", "mark the conditions met on"),
    "correct": pgettext_lazy("transition", "correct"),
}
OBJECTS = {
    "application": pgettext_lazy("transition object", "application"),
    "endorsement": pgettext_lazy("transition object", "endorsement"),
    "criteria table": pgettext_lazy("transition object", "criteria table"),
    "organisation": pgettext_lazy("transition object", "organisation"),
    "staff invitation": pgettext_lazy("transition object", "staff invitation"),
}


def condition(message: str) -> Callable[[Callable[[Any], bool]], Callable[[Any], bool]]:
    """Attach the sentence shown to a user when this transition condition is not met."""

    def decorate(func: Callable[[Any], bool]) -> Callable[[Any], bool]:
        func.message = message  # type: ignore[attr-defined]
        return func

    return decorate


def _transition_of(instance: models.Model, name: str) -> tuple[Any, Any]:
    bound = getattr(instance, name)
    meta = bound._django_fsm
    state = meta.field.get_state(instance)
    return meta.get_transition(state) if meta.has_transition(state) else None, state


def check_transition(instance: models.Model, name: str, user: Any) -> None:
    """Raise WrongState (not from this state, or a condition unmet) or NotPermitted."""
    transition, state = _transition_of(instance, name)
    # OBJECTS is keyed by the model's English name: read it untranslated, or in Japanese the key is
    # "申請", no key matches and the words of the "transition object" context are never used.
    with override(None):
        model_name = str(instance._meta.verbose_name)
    words = {
        "action": str(ACTIONS[name]),
        "object": str(OBJECTS.get(model_name, instance._meta.verbose_name)),
    }
    if transition is None:
        field = getattr(instance, name)._django_fsm.field
        words["state"] = str(dict(field.flatchoices).get(state, state.replace("_", " "))).lower()
        raise WrongState(gettext("Cannot %(action)s this %(object)s: it is %(state)s.") % words)
    if user is not None and not transition.has_perm(instance, user):
        raise NotPermitted(gettext("You may not %(action)s this %(object)s.") % words)
    # Every condition carries its sentence (`@condition`; the same test checks).
    unmet = [str(c.message) for c in transition.conditions if not c(instance)]
    if unmet:
        raise WrongState(" ".join(unmet))


def allowed_transitions(instance: models.Model, user: Any, names: list[str]) -> list[str]:
    """The transitions among `names` that `user` may take now (state, permission and conditions)."""
    result = []
    for name in names:
        transition, _ = _transition_of(instance, name)
        if transition is None or not transition.has_perm(instance, user):
            continue
        if all(c(instance) for c in transition.conditions):
            result.append(name)
    return result
