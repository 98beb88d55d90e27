"""The audit trail in the admin: read-only for everyone (superusers included), filterable, and a page
that verifies the hash chain."""

import pytest
from django.urls import reverse

from endorsement.audit import audit_verify
from endorsement.models import ApplicationState, AuditEvent
from tests.factories import UserFactory, application_in, reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail():
    app, cast = application_in(ApplicationState.PUBLISHED)
    return app, cast


def test_the_list_filters_by_action_and_subject_type_and_searches(client, trail):
    _app, cast = trail
    client.force_login(cast.reviewer)
    url = reverse("admin:endorsement_auditevent_changelist")

    by_action = client.get(url, {"action": "application.endorsed"}).context["cl"].result_list
    by_subject = client.get(url, {"subject_type": "application"}).context["cl"].result_list
    by_search = client.get(url, {"q": "application.published"}).context["cl"].result_list

    assert [e.action for e in by_action] == ["application.endorsed"]
    assert {e.subject_type for e in by_subject} == {"application"}
    assert len(by_subject) == AuditEvent.objects.filter(subject_type="application").count()
    assert [e.action for e in by_search] == ["application.published"]


@pytest.mark.parametrize("who", ["manager", "superuser"])
def test_no_one_can_add_change_or_delete_an_audit_event(client, trail, who):
    _app, cast = trail
    user = cast.manager if who == "manager" else UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    event = AuditEvent.objects.order_by("seq").first()
    before = (AuditEvent.objects.count(), event.comment, event.hash)

    changelist = client.get(reverse("admin:endorsement_auditevent_changelist"))
    add = client.get(reverse("admin:endorsement_auditevent_add"))
    change = client.post(reverse("admin:endorsement_auditevent_change", args=[event.pk]),
                         {"comment": "rewritten", "action": "application.endorsed"})
    delete = client.post(reverse("admin:endorsement_auditevent_delete", args=[event.pk]), {"post": "yes"})
    bulk = client.post(reverse("admin:endorsement_auditevent_changelist"),
                       {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})

    assert "delete_selected" not in changelist.context["cl"].model_admin.get_actions(changelist.wsgi_request)
    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert bulk.status_code in (200, 302)
    event.refresh_from_db()
    assert (AuditEvent.objects.count(), event.comment, event.hash) == before
    assert audit_verify().ok


def test_the_verify_page_reports_an_intact_chain(client, trail):
    _app, cast = trail
    client.force_login(cast.reviewer)

    response = client.get(reverse("admin:endorsement_auditevent_verify"))

    assert response.context["report"].ok is True
    html = response.content.decode()
    assert "The chain holds." in html
    assert f"{AuditEvent.objects.count()} events checked" in html


def test_the_verify_page_reports_where_a_tampered_chain_breaks(client, trail):
    _app, cast = trail
    tampered = AuditEvent.objects.get(action="application.endorsed")
    # Bypass the model's append-only guard, as someone with database access could.
    AuditEvent.objects.filter(pk=tampered.pk).update(comment="Endorsed without review.")
    client.force_login(cast.manager)

    response = client.get(reverse("admin:endorsement_auditevent_verify"))

    assert response.context["report"].ok is False
    html = response.content.decode()
    assert "The chain is broken." in html
    assert f"At event #{tampered.seq}: its content does not match its hash." in html


def test_the_changelist_links_to_the_verify_page(client, trail):
    client.force_login(reviewer())
    response = client.get(reverse("admin:endorsement_auditevent_changelist"))
    assert reverse("admin:endorsement_auditevent_verify") in response.content.decode()


def test_the_verify_page_is_for_the_body_only(client, trail):
    _app, cast = trail
    client.force_login(cast.editor)
    response = client.get(reverse("admin:endorsement_auditevent_verify"))
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
