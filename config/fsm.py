"""Helpers around django-fsm: explain *why* a transition is refused, and list what a user may do.

django-fsm answers yes or no (`can_proceed`, `has_transition_perm`); services need the reason, so
that the API and pages can say "the programme is incomplete" rather than "transition not allowed".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from config.errors import NotPermitted, WrongState


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
    label = instance._meta.verbose_name
    if transition is None:
        raise WrongState(f"Cannot {name.replace('_', ' ')} a {label} that is {state.replace('_', ' ')}.")
    if user is not None and not transition.has_perm(instance, user):
        raise NotPermitted(f"You may not {name.replace('_', ' ')} this {label}.")
    unmet = [str(getattr(c, "message", c.__name__)) for c in transition.conditions if not c(instance)]
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
