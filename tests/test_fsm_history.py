"""Historical models rendered by migrations leave no django-fsm receivers behind (config/fsm_history.py)."""

from __future__ import annotations

from django.db.migrations.loader import MigrationLoader
from django.db.models.signals import class_prepared

from endorsement.models import Application


def test_rendering_the_migration_state_again_adds_no_class_prepared_receivers():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    loader.project_state().apps  # noqa: B018 (rendered once: whatever is connected for good is connected)
    before = len(class_prepared.receivers)
    for _ in range(3):
        apps = loader.project_state().apps
        assert apps.get_model("endorsement", "Application")._meta.get_field("state").transitions
    assert len(class_prepared.receivers) == before


def test_a_historical_state_field_has_no_transitions_and_the_real_model_keeps_its_own():
    apps = MigrationLoader(None, ignore_no_migrations=True).project_state().apps
    old = apps.get_model("endorsement", "Application")
    assert old._meta.get_field("state").transitions == {old: {}}
    real = Application._meta.get_field("state").transitions[Application]
    assert {"submit", "endorse", "request_changes"} <= set(real)
