"""The admin in Japanese: model and field names, column headers, filters, and "My review" with the
criteria in the reader's language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from endorsement.models import ApplicationState, CriteriaTable, Criterion, TableStatus
from tests.conftest import need
from tests.factories import application_in

pytestmark = pytest.mark.django_db

SHARED_TABLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "criteria" / "default-criteria-table.json"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
OUR_APPS = ("institutions", "badges", "endorsement")
# Technical names Japanese writes in Latin letters as they are (an ID, a URL, an HTTP ETag, a hash).
LATIN_IN_JAPANESE = {"ID", "URL", "ETag", "SHA-256", "SHA-384"}


def is_japanese(text: object) -> bool:
    return bool(JAPANESE.search(str(text))) or str(text) in LATIN_IN_JAPANESE


def our_models() -> list:
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


def test_every_model_and_field_of_the_three_apps_has_a_japanese_name():
    missing = []
    with translation.override("ja"):
        for model in our_models():
            opts = model._meta
            for what, text in (("verbose_name", opts.verbose_name), ("plural", opts.verbose_name_plural)):
                if not is_japanese(text):
                    missing.append(f"{opts.label}.{what}: {text}")
            for field in opts.get_fields():
                if field.auto_created and not field.concrete:
                    continue  # reverse relations are named by the other model
                if field.name == "id" and field.auto_created:
                    continue
                if not is_japanese(field.verbose_name):
                    missing.append(f"{opts.label}.{field.name}: {field.verbose_name}")
                if field.help_text and not is_japanese(field.help_text):
                    missing.append(f"{opts.label}.{field.name} help: {field.help_text}")
    assert missing == []


def test_every_admin_column_header_filter_and_action_of_the_three_apps_is_japanese(rf):
    missing = []
    with translation.override("ja"):
        for model, model_admin in admin.site._registry.items():
            if model._meta.app_label not in OUR_APPS:
                continue
            from django.contrib.admin.utils import label_for_field
            for name in model_admin.list_display:
                if name == "action_checkbox":
                    continue
                label = label_for_field(name, model, model_admin)
                if not is_japanese(label):
                    missing.append(f"{model.__name__} column {name}: {label}")
            for item in model_admin.list_filter:
                if isinstance(item, type):
                    title = item.title
                else:
                    field_name = item[0] if isinstance(item, tuple) else item
                    title = model._meta.get_field(field_name).verbose_name
                if not is_japanese(title):
                    missing.append(f"{model.__name__} filter {item}: {title}")
            for title, _options in (model_admin.fieldsets or []):
                if title is not None and not is_japanese(title):
                    missing.append(f"{model.__name__} fieldset: {title}")
            for action in model_admin.actions or []:
                func = getattr(model_admin, action) if isinstance(action, str) else action
                if not is_japanese(func.short_description):
                    missing.append(f"{model.__name__} action {action}")
    assert missing == []


def test_the_admin_index_and_changelists_read_in_japanese(client):
    _app, cast = application_in(ApplicationState.IN_REVIEW)
    client.force_login(cast.manager)
    index = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    for word in ("申請", "監査イベント", "認証基準表", "プログラム", "機関"):
        assert word in index, word
    for english in (">Applications<", ">Audit events<", ">Programmes<", ">Organisations<"):
        assert english not in index, english
    page = client.get(reverse("admin:endorsement_application_changelist"), HTTP_ACCEPT_LANGUAGE="ja")
    html = page.content.decode()
    assert "提出日時" in html and "機関" in html and "状態" in html
    assert "Submitted at" not in html and "SUBMITTED AT" not in html


# --- "My review": the criteria in the reader's language ----------------------------------------
def test_the_seeded_default_table_carries_both_languages_as_the_shared_table_has_them():
    need(SHARED_TABLE.exists(), f"{SHARED_TABLE} is missing (the shared test data)")
    spec = json.loads(SHARED_TABLE.read_text(encoding="utf-8"))
    table = CriteriaTable.objects.get(code=spec["code"], version=spec["version"], status=TableStatus.PUBLISHED)
    assert (table.title_en, table.title_ja) == (spec["title"]["en"], spec["title"]["ja"])
    seeded = {c.code: c for c in table.criteria.all()}
    assert set(seeded) == {c["code"] for c in spec["criteria"]}
    for c in spec["criteria"]:
        row = seeded[c["code"]]
        assert (row.title_en, row.guidance_en) == (c["en"]["title"], c["en"]["guidance"])
        assert (row.title_ja, row.guidance_ja) == (c["ja"]["title"], c["ja"]["guidance"])
        assert row.title_ja and row.guidance_ja


def my_review_html(client, app, language: str) -> str:
    page = client.get(reverse("admin:endorsement_application_change", args=[app.pk]),
                      HTTP_ACCEPT_LANGUAGE=language).content.decode()
    start = page.index('id="my-review"')
    ends = [page.find(marker, start) for marker in ('id="snapshot"', 'id="audit-trail"')]
    return page[start:min([end for end in ends if end > 0], default=len(page))]


def test_my_review_shows_the_criteria_in_japanese_to_a_japanese_reader_and_in_english_otherwise(client):
    app, cast = application_in(ApplicationState.IN_REVIEW)
    client.force_login(cast.reviewer)
    lo = app.criteria_table.criteria.get(code="LO")

    japanese = my_review_html(client, app, "ja")
    english = my_review_html(client, app, "en")

    # The shared table's words (a literal, not the model's): 学修成果 / Learning outcomes.
    assert "学修成果" in japanese.replace("<wbr>", "")
    assert "学修者が示すことのできる能力として" in japanese.replace("<wbr>", "")
    assert 'lang="ja"' in japanese
    assert "Learning outcomes" not in japanese and "Outcomes are stated as abilities" not in japanese
    assert "Learning outcomes" in english and "Outcomes are stated as abilities" in english
    assert "学修成果" not in english
    assert lo.title_ja == "学修成果"


def test_a_criterion_without_japanese_falls_back_to_english_marked_as_english(client):
    app, cast = application_in(ApplicationState.IN_REVIEW)
    client.force_login(cast.reviewer)
    # A published table cannot change: write the row as a data fix would, bypassing the model guard.
    Criterion.objects.filter(table=app.criteria_table, code="LO").update(title_ja="", guidance_ja="")

    japanese = my_review_html(client, app, "ja")

    assert '<span lang="en">Learning outcomes</span>' in japanese
    assert "Outcomes are stated as abilities" in japanese


def test_japanese_titles_get_break_opportunities_between_phrases(client):
    app, cast = application_in(ApplicationState.IN_REVIEW)
    client.force_login(cast.reviewer)
    Criterion.objects.filter(table=app.criteria_table, code="LO").update(title_ja="学修成果を確認してください")

    japanese = my_review_html(client, app, "ja")

    assert "学修成果を<wbr>確認してください" in japanese


def test_japanese_names_in_the_changelists_break_only_between_phrases(client):
    app, cast = application_in(ApplicationState.IN_REVIEW)
    app.programme.name_ja = "認知症ケアのコミュニケーション"
    app.programme.save(update_fields=["name_ja"])
    cast.organisation.name_ja = "港大学"
    cast.organisation.save(update_fields=["name_ja"])
    client.force_login(cast.manager)

    applications = client.get(reverse("admin:endorsement_application_changelist"),
                              HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    organisations = client.get(reverse("admin:institutions_organisation_changelist"),
                               HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    # Where a Japanese reader would break the line: after の, never inside ケア or コミュニケーション.
    assert "認知症ケアの<wbr>コミュニケーション" in applications
    assert "港大学" in organisations
    # The Japanese rules are on every admin page (static/css/admin-ja.css).
    assert "css/admin-ja.css" in applications
