"""The audit trail's codes shown as words wherever people read them (endorsement.audit_labels), with
the code itself kept in the chain and in machine outputs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from endorsement.audit import AuditAction, audit_for
from endorsement.audit_labels import STATES, action_label, state_label
from endorsement.models import ApplicationState, AuditEvent
from tests.factories import application_in

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
APPS = ("institutions", "badges", "endorsement", "config")
JAPANESE = "\u3040-\u30ff\u4e00-\u9fff"


def recorded_action_names() -> set[str]:
    """Every AuditAction member the code base names (`AuditAction.X`, `A.X`, `_actions().X`), read
    from the source: what the services can record."""
    names: set[str] = set()
    for app in APPS:
        for path in (REPO / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr.isupper():
                    base = node.value
                    named = (isinstance(base, ast.Name) and base.id in {"AuditAction", "A"}) or (
                        isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "_actions")
                    if named:
                        names.add(node.attr)
    return names


def test_the_source_scan_finds_the_actions_the_services_record():
    names = recorded_action_names()
    # A few the services certainly record, found in three apps, to show the scan reads them all.
    assert {"APPLICATION_SUBMITTED", "STAFF_INVITED", "AWARD_ISSUED", "CONCERN_RECEIVED"} <= names
    assert len(names) > 40


def test_every_code_the_code_base_records_has_a_label_in_both_languages():
    members = AuditAction.__members__
    unknown = sorted(name for name in recorded_action_names() if name not in members)
    assert unknown == [], f"not AuditAction members: {unknown}"
    for name in sorted(recorded_action_names()):
        code = members[name].value
        # An explicit label, not the one Django derives from the member's name ("Application Submitted").
        assert str(members[name].label) != name.replace("_", " ").title(), name
        with translation.override("en"):
            english = action_label(code)
        with translation.override("ja"):
            japanese = action_label(code)
        assert english != code and english[0].isupper(), (code, english)
        assert japanese != english and any(JAPANESE[0] <= ch <= "\u9fff" for ch in japanese), (code, japanese)


def test_a_code_and_its_states_read_as_words():
    with translation.override("ja"):
        assert action_label("application.submitted") == "申請を提出"
        assert state_label("application", "in_review") == "審査中"
        assert state_label("staffmember", "reviewer") == "審査員"
    with translation.override("en"):
        assert action_label("application.submitted") == "Application submitted"
        assert state_label("endorsement", "active") == "Active"


def test_an_unknown_code_is_shown_as_it_is():
    assert action_label("something.new_in_a_later_version") == "something.new_in_a_later_version"
    assert state_label("application", "not_a_state") == "not_a_state"
    assert state_label("award", "issued") == "issued"


def test_every_state_the_mapping_names_is_a_subject_type_of_the_trail():
    from django.apps import apps

    model_names = {model._meta.model_name for model in apps.get_models()}
    assert set(STATES) <= model_names


def test_the_template_filters_show_words():
    app, _cast = application_in(ApplicationState.IN_REVIEW)
    event = audit_for(app).get(action=AuditAction.APPLICATION_REVIEW_STARTED)
    template = Template('{% load audit %}{{ e.action|audit_action }}: {{ e|audit_state:"from" }} → '
                        '{{ e|audit_state:"to" }}')
    with translation.override("ja"):
        assert template.render(Context({"e": event})) == "審査開始: 提出済み → 審査中"
    with translation.override("en"):
        assert template.render(Context({"e": event})) == "Review started: Submitted → In review"


def test_the_admin_trail_shows_words_and_keeps_the_code(client):
    app, cast = application_in(ApplicationState.IN_REVIEW)
    client.force_login(cast.manager)
    url = reverse("admin:endorsement_auditevent_changelist")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "申請を提出" in page and "審査開始" in page and "審査中" in page
    # The filter offers words and filters on the code.
    filtered = client.get(url, {"action": "application.submitted"}, HTTP_ACCEPT_LANGUAGE="ja")
    assert [e.action for e in filtered.context["cl"].result_list] == ["application.submitted"]
    assert '?action=application.submitted"' in page or "?action=application.submitted&" in page
    event = AuditEvent.objects.get(action="application.submitted", subject_id=str(app.pk))
    change = client.get(reverse("admin:endorsement_auditevent_change", args=[event.pk]),
                        HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "申請を提出" in change and "application.submitted" in change


def test_the_application_page_trail_shows_words(client):
    app, cast = application_in(ApplicationState.IN_REVIEW)
    client.force_login(cast.manager)
    page = client.get(reverse("admin:endorsement_application_change", args=[app.pk]),
                      HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    trail = page[page.index('id="audit-trail"'):]
    assert "審査開始" in trail and "提出済み → 審査中" in trail
    assert "application.review_started" not in trail


def test_the_code_stays_in_the_chain():
    with translation.override("ja"):
        application_in(ApplicationState.SUBMITTED)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert "application.submitted" in actions
    assert not any(set(a) & set("申請を提出") for a in actions)


def test_the_api_keeps_the_codes_for_a_client_asking_for_japanese():
    from tests.factories import api_client

    app, cast = application_in(ApplicationState.IN_REVIEW)
    body = api_client(cast.manager).get(f"/api/v1/applications/{app.pk}", HTTP_ACCEPT_LANGUAGE="ja").json()
    assert [e["action"] for e in body["audit"]] == [
        "application.created", "application.submitted", "application.reviewer_assigned",
        "application.review_started"]


def test_a_mail_names_the_event_in_english_whatever_language_the_request_committing_it_used(
        django_capture_on_commit_callbacks):
    from django.core import mail

    from endorsement import services

    application, cast = application_in(ApplicationState.DRAFT)
    with translation.override("ja"), django_capture_on_commit_callbacks(execute=True):
        services.application_submit(actor=cast.editor, application=application)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.endswith(": Application submitted")
