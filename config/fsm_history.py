"""django-fsm and migrations: a historical model's state field must not listen to every class made.

django-fsm's `FSMField.contribute_to_class` connects the field's `_collect_transitions` to
`class_prepared` for *every* model class it is added to, and never disconnects it. Migrations render
historical models (`StateApps`) again and again (each operation that alters a model reloads it and
the models related to it), so every render adds receivers, and every later class prepared calls all
of them: migrating the test database, and the tests that migrate back and forth, spent most of their
time in `Signal.send` (a test that migrates the endorsement app back eight steps and forward again
took over three minutes of CPU, most of it dispatching `class_prepared` to thousands of stale
receivers).

A historical model has no transition methods (migrations keep fields, not methods), so its field has
nothing to collect: `historical_fsm_fields_quiet` makes the fields of historical models record their
empty transition table at once and disconnect. Models of the real registry are untouched.
"""

from __future__ import annotations

from typing import Any

_PATCHED = "_historical_models_quiet"


def historical_fsm_fields_quiet() -> None:
    """Install the behaviour above once per process (idempotent); called from an AppConfig.ready."""
    from django.apps import apps as global_apps
    from django.db.models.signals import class_prepared
    from django_fsm import FSMFieldMixin

    original = FSMFieldMixin.contribute_to_class
    if getattr(original, _PATCHED, False):
        return

    def contribute_to_class(self: Any, cls: Any, name: str, *args: Any, **kwargs: Any) -> None:
        original(self, cls, name, *args, **kwargs)
        if cls._meta.apps is not global_apps:
            class_prepared.disconnect(self._collect_transitions)
            self.transitions[cls] = {}

    setattr(contribute_to_class, _PATCHED, True)
    FSMFieldMixin.contribute_to_class = contribute_to_class
