"""Criteria tables in the admin: a draft's criteria are edited inline by managers; a published or
retired table is read-only; publishing and new versions go through the services."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from endorsement import services
from endorsement.models import AuditEvent, CriteriaTable, Criterion, TableStatus
from tests.factories import default_table, manager, reviewer

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(table):
    return reverse("admin:endorsement_criteriatable_change", args=[table.pk])


def press(client, table, button):
    return client.post(reverse("admin:endorsement_criteriatable_button", args=[table.pk, button]))


def change_form_data(table, *, new=None, edit=None):
    """What the change form posts: the table's fields and its criteria formset, with `edit` applied
    to existing criteria (by code) and `new` criteria appended."""
    edit, new = edit or {}, new or []
    criteria = list(table.criteria.all())
    data = {
        "title_en": table.title_en, "title_ja": table.title_ja, "rule": table.rule, "_save": "Save",
        "criteria-TOTAL_FORMS": str(len(criteria) + len(new)), "criteria-INITIAL_FORMS": str(len(criteria)),
        "criteria-MIN_NUM_FORMS": "0", "criteria-MAX_NUM_FORMS": "1000",
    }
    rows = [
        {"id": c.pk, "table": table.pk, "position": c.position, "code": c.code, "required": c.required,
         "title_en": c.title_en, "title_ja": c.title_ja, "guidance_en": c.guidance_en, "guidance_ja": c.guidance_ja,
         **edit.get(c.code, {})}
        for c in criteria
    ] + [{"id": "", "table": table.pk, "guidance_en": "", "guidance_ja": "", "title_ja": "", **n} for n in new]
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key == "required":
                if value:
                    data[f"criteria-{i}-required"] = "on"
            elif key == "DELETE":
                data[f"criteria-{i}-DELETE"] = "on"
            else:
                data[f"criteria-{i}-{key}"] = value
    return data


@pytest.fixture
def draft():
    boss = manager()
    return services.criteria_table_new_version(actor=boss, table=default_table()), boss


def test_the_list_shows_code_version_and_status_and_filters_by_status(client, draft):
    table, boss = draft
    client.force_login(boss)

    response = client.get(reverse("admin:endorsement_criteriatable_changelist"), {"status__exact": "draft"})

    assert list(response.context["cl"].result_list) == [table]
    html = response.content.decode()
    assert '<td class="field-version">2</td>' in html and '<td class="field-status">Draft</td>' in html


def test_new_version_copies_the_table_into_a_draft_and_opens_it(client):
    boss = manager()
    published = default_table()
    client.force_login(boss)

    response = press(client, published, "new-version")

    draft = CriteriaTable.objects.get(code=published.code, status=TableStatus.DRAFT)
    assert response.url == change_url(draft)
    assert draft.version == published.version + 1
    codes = list(published.criteria.values_list("code", flat=True))
    assert list(draft.criteria.values_list("code", flat=True)) == codes
    assert AuditEvent.objects.filter(action="criteria_table.created", subject_id=str(draft.pk)).exists()


def test_a_reviewer_cannot_start_a_new_version(client):
    published = default_table()
    client.force_login(reviewer())
    events = AuditEvent.objects.count()

    response = press(client, published, "new-version")

    assert any("Only managers edit criteria tables." in m for m in messages_of(response))
    assert CriteriaTable.objects.filter(code="default").count() == 1
    assert AuditEvent.objects.count() == events


def test_a_manager_edits_a_drafts_criteria_inline(client, draft):
    table, boss = draft
    client.force_login(boss)
    assert client.get(change_url(table)).context["inline_admin_formsets"][0].has_add_permission

    response = client.post(change_url(table), change_form_data(
        table,
        edit={"LO": {"title_en": "Intended learning outcomes"}, "PATHWAY": {"DELETE": True}},
        new=[{"position": 99, "code": "ACCESS", "required": False, "title_en": "Accessibility"}],
    ))

    assert response.status_code == 302, response.context["errors"] if response.context else response
    assert table.criteria.get(code="LO").title_en == "Intended learning outcomes"
    assert not table.criteria.filter(code="PATHWAY").exists()
    added = table.criteria.get(code="ACCESS")
    assert added.required is False and added.position == 99
    # The published table the draft was copied from is untouched.
    assert default_table().criteria.get(code="LO").title_en == "Learning outcomes"
    assert default_table().criteria.filter(code="PATHWAY").exists()


def test_two_criteria_with_one_code_are_refused_and_nothing_is_saved(client, draft):
    table, boss = draft
    client.force_login(boss)
    before = list(table.criteria.values_list("code", "title_en"))

    response = client.post(change_url(table), change_form_data(
        table, edit={"TIME": {"title_en": "Hours"}},
        new=[{"position": 50, "code": "LO", "required": True, "title_en": "Duplicate"}],
    ))

    assert response.status_code == 200
    assert "Please correct the duplicate data for code." in response.content.decode()
    assert list(table.criteria.values_list("code", "title_en")) == before


def test_a_reviewer_sees_a_draft_read_only(client, draft):
    table, _boss = draft
    client.force_login(reviewer())

    response = client.get(change_url(table))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert not response.context["inline_admin_formsets"][0].has_add_permission
    assert client.post(change_url(table), change_form_data(table, edit={"LO": {"title_en": "x"}})).status_code == 403
    assert table.criteria.get(code="LO").title_en == "Learning outcomes"


def test_a_published_table_is_entirely_read_only_in_the_admin(client):
    table = default_table()
    client.force_login(manager())

    response = client.get(change_url(table))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    inline = response.context["inline_admin_formsets"][0]
    assert not inline.has_add_permission and not inline.has_change_permission and not inline.has_delete_permission
    assert [b["name"] for b in response.context["object_buttons"]] == ["new-version"]
    before = list(table.criteria.values_list("code", "title_en", "required"))

    posted = client.post(change_url(table), change_form_data(
        table, edit={"LO": {"title_en": "Rewritten"}, "QA": {"DELETE": True}},
        new=[{"position": 1, "code": "NEW", "required": True, "title_en": "Sneaked in"}],
    ))

    assert posted.status_code == 403
    assert list(table.criteria.values_list("code", "title_en", "required")) == before


def test_the_body_cannot_add_or_delete_criteria_tables(client):
    client.force_login(manager())
    assert client.get(reverse("admin:endorsement_criteriatable_add")).status_code == 403
    delete = reverse("admin:endorsement_criteriatable_delete", args=[default_table().pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert CriteriaTable.objects.filter(code="default").count() == 1


def test_publishing_a_draft_retires_the_previous_version(client, draft):
    table, boss = draft
    previous = default_table()
    client.force_login(boss)
    assert "publish" in [b["name"] for b in client.get(change_url(table)).context["object_buttons"]]

    response = press(client, table, "publish")

    assert "Published; the version published before it is retired." in messages_of(response)
    table.refresh_from_db()
    previous.refresh_from_db()
    assert table.status == TableStatus.PUBLISHED and table.published_at is not None
    assert previous.status == TableStatus.RETIRED
    actions = list(AuditEvent.objects.order_by("-seq").values_list("action", flat=True)[:2])
    assert actions == ["criteria_table.published", "criteria_table.retired"]


def test_a_reviewer_cannot_publish_and_nothing_changes(client, draft):
    table, _boss = draft
    client.force_login(reviewer())
    assert client.get(change_url(table)).context["object_buttons"] == []
    events = AuditEvent.objects.count()

    response = press(client, table, "publish")

    assert any("may not publish" in m for m in messages_of(response))
    table.refresh_from_db()
    assert table.status == TableStatus.DRAFT
    assert default_table().status == TableStatus.PUBLISHED
    assert AuditEvent.objects.count() == events


def test_publishing_an_empty_draft_is_refused(client, draft):
    table, boss = draft
    Criterion.objects.filter(table=table).delete()
    client.force_login(boss)
    events = AuditEvent.objects.count()

    response = press(client, table, "publish")

    assert any("at least one criterion" in m for m in messages_of(response))
    table.refresh_from_db()
    assert table.status == TableStatus.DRAFT
    assert AuditEvent.objects.count() == events


def test_publishing_an_already_published_table_is_refused(client):
    table = default_table()
    client.force_login(manager())
    events = AuditEvent.objects.count()

    response = press(client, table, "publish")

    assert any("Cannot publish" in m for m in messages_of(response))
    assert default_table().pk == table.pk
    assert AuditEvent.objects.count() == events
