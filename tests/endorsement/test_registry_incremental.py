"""The registry refreshed by change: each change notes its programmes in its own transaction, the
refresh renders only those entries, and the result is what a full rebuild renders. The search
index (words and Japanese bigrams) finds what a scan of the search text finds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from badges.awards import award_issue, award_revoke
from endorsement import registry as registry_module
from endorsement import registry_views, services
from endorsement.models import (
    ApplicationState,
    Endorsement,
    RegistryChange,
    RegistryEntry,
    RegistrySnapshot,
    RegistryToken,
    stored_entries,
)
from endorsement.registry import (
    fold,
    registry_current,
    registry_refresh,
    registry_refresh_pending,
    tokens,
    word_terms,
)
from endorsement.reports import issuance_report_file
from institutions import services as institution_services
from tests.factories import (
    PASSWORD,
    Cast,
    OrganisationFactory,
    ProgrammeFactory,
    application_in,
    awarding_setup,
    login_request,
)
from tests.pathways.helpers import endorsed_programmes, pathway_in

pytestmark = pytest.mark.django_db


def state() -> tuple:
    """Everything the registry holds: digest, entries, organisations, the token index."""
    snapshot = RegistrySnapshot.objects.latest()
    index = sorted(RegistryToken.objects.values_list("entry__public_id", "token"))
    return snapshot.digest, snapshot.entry_count, stored_entries(), snapshot.organisations, index


def assert_incremental_equals_full() -> None:
    """Refresh what was noted; then a full rebuild, and a rebuild from nothing, find nothing to change."""
    registry_refresh_pending()
    assert not RegistryChange.objects.exists()  # the notes are consumed
    incremental, versions = state(), RegistrySnapshot.objects.count()
    registry_refresh()
    assert state() == incremental
    assert RegistrySnapshot.objects.count() == versions  # the same digest: no new version
    RegistryEntry.objects.all().delete()
    RegistrySnapshot.objects.all().delete()
    registry_refresh()
    assert state() == incremental


def published_programme(cast=None, **fields):
    cast = cast or Cast()
    programme = ProgrammeFactory(organisation=cast.organisation, **fields)
    application, cast = application_in(ApplicationState.PUBLISHED, cast, programme=programme)
    return application, cast


def test_each_kind_of_change_refreshed_incrementally_equals_a_full_rebuild():
    programme, application, cast, issuer = awarding_setup()
    other, _other_cast = published_programme()
    registry_refresh()

    # publication of another programme of the same organisation
    published_programme(cast, name_en="Cloud operations", name_ja="クラウド運用")
    assert_incremental_equals_full()
    # badges issued and revoked (the debounced path notes the programme)
    award = award_issue(actor=issuer, programme=programme, recipient_email="learner@example.org")
    assert RegistryChange.objects.filter(programme_id=programme.pk).exists()
    assert_incremental_equals_full()
    assert next(e for e in stored_entries() if e["id"] == str(programme.public_id))["issuance"]["issued_here"] == 1
    award_revoke(actor=issuer, award=award, reason="Wrong learner.")
    assert_incremental_equals_full()
    # an issuance report
    Endorsement.objects.filter(programme=programme).update(valid_from=timezone.now() - timedelta(days=40))
    registry_refresh()  # a change made behind the services: only the full rebuild sees it
    issuance_report_file(actor=issuer, programme=programme, period_start="2020-01-01",
                         period_end=(date.today() - timedelta(days=1)).isoformat(), count=7, platform="Elsewhere")
    assert_incremental_equals_full()
    # a standing change, then its end
    services.endorsement_suspend(actor=cast.manager, endorsement=application.endorsement, comment="Check.")
    assert_incremental_equals_full()
    services.endorsement_reinstate(actor=cast.manager, endorsement=application.endorsement)
    assert_incremental_equals_full()
    services.endorsement_revoke(actor=cast.manager, endorsement=other.endorsement, comment="Withdrawn.")
    assert_incremental_equals_full()
    Endorsement.objects.filter(pk=application.endorsement.pk).update(valid_until=timezone.now() - timedelta(hours=1))
    RegistryChange.objects.create(programme_id=programme.pk)  # as if the dates were edited through a service
    registry_refresh_pending()
    assert services.endorsements_expire_due() == 1
    assert_incremental_equals_full()
    assert next(e for e in stored_entries() if e["id"] == str(programme.public_id))["endorsement"]["state"] == "expired"
    # the organisation's membership
    institution_services.organisation_suspend(actor=cast.manager, organisation=cast.organisation, comment="Fees.")
    assert_incremental_equals_full()
    assert next(o for o in RegistrySnapshot.objects.latest().organisations
                if o["slug"] == cast.organisation.slug)["membership"] == "suspended"


def test_a_pathway_published_shows_on_its_component_entries_without_noting_them():
    first, second = endorsed_programmes()
    registry_refresh()
    RegistryChange.objects.all().delete()
    pathway_in("published", programmes=(first, second))
    registry_refresh_pending()
    entry = next(e for e in stored_entries() if e["id"] == str(first.public_id))
    assert entry["pathways"][0]["name_ja"] == "データアナリスト・パスウェイ"
    assert_incremental_equals_full()


def test_an_incremental_refresh_rewrites_only_the_entries_that_changed():
    first, cast = published_programme()
    second, _ = published_programme()
    registry_refresh()
    rows = dict(RegistryEntry.objects.values_list("programme_id", "pk"))
    services.endorsement_suspend(actor=cast.manager, endorsement=first.endorsement, comment="Check.")
    assert list(RegistryChange.objects.values_list("programme_id", flat=True)) == [first.programme_id]
    registry_refresh_pending()
    now = dict(RegistryEntry.objects.values_list("programme_id", "pk"))
    assert now[second.programme_id] == rows[second.programme_id]  # untouched
    assert now[first.programme_id] != rows[first.programme_id]  # rewritten
    assert RegistryEntry.objects.get(programme_id=first.programme_id).state == "suspended"


def test_a_change_that_rolls_back_notes_nothing_and_a_noted_change_waits_for_the_refresh():
    application, cast = published_programme()
    registry_refresh()
    RegistryChange.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.endorsement_suspend(actor=cast.manager, endorsement=application.endorsement, comment="Check.")
        raise RuntimeError("the request failed after the change")
    assert not RegistryChange.objects.exists()
    assert Endorsement.objects.get(pk=application.endorsement.pk).state == "active"
    services.endorsement_suspend(actor=cast.manager, endorsement=application.endorsement, comment="Check.")
    assert RegistryEntry.objects.get().state == "active"  # noted, not refreshed yet
    assert RegistryChange.objects.count() == 1
    registry_refresh_pending()
    assert RegistryEntry.objects.get().state == "suspended"


def test_a_standing_change_shows_on_the_registry_at_commit(client, django_capture_on_commit_callbacks):
    application, cast = published_programme(name_en="Visible standing")
    registry_refresh()
    with django_capture_on_commit_callbacks(execute=True):
        services.endorsement_suspend(actor=cast.manager, endorsement=application.endorsement, comment="Check.")
    response = client.get(reverse("registry:index"), {"standing": "suspended"})
    assert "Visible standing" in response.content.decode()



def admin_form_data(client, page) -> dict:
    """The organisation's change form as the admin shows it, inlines empty."""
    response = client.get(page)
    form = response.context["adminform"].form
    data = {name: value for name, value in form.initial.items()
            if value is not None and name in form.fields and name != "logo"}  # no file: the logo stays
    for formset in response.context["inline_admin_formsets"]:
        data.update({f"{formset.formset.prefix}-TOTAL_FORMS": "0", f"{formset.formset.prefix}-INITIAL_FORMS": "0"})
    return data


def test_a_name_corrected_in_the_admin_shows_on_the_registry_at_commit(client, django_capture_on_commit_callbacks):
    _application, cast = published_programme(name_en="Renamed holder")
    registry_refresh()
    client.login(request=login_request(), username=cast.manager.username, password=PASSWORD)
    page = reverse("admin:institutions_organisation_change", args=[cast.organisation.pk])
    data = admin_form_data(client, page)

    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(page, {**data, "name_ja": "改名後の学園"})
    assert saved.status_code == 302
    assert not RegistryChange.objects.exists()  # refreshed, the notes consumed
    [entry] = [e for e in stored_entries() if e["organisation"]["slug"] == cast.organisation.slug]
    assert entry["organisation"]["name_ja"] == "改名後の学園"
    found = client.get(reverse("registry:index"), {"q": "改名後"}, headers={"accept-language": "ja"})
    assert "改名後の学園" in found.content.decode()
    assert_incremental_equals_full()

    # A correction the registry does not show (the contact) notes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page, {**admin_form_data(client, page), "contact_name": "Hanako Sato"})
    assert not RegistryChange.objects.exists()


# --- Search ---------------------------------------------------------------------------------------
def test_tokens_are_words_for_latin_script_and_bigrams_for_japanese():
    text = fold("Data Literacy for Business ビジネスのためのデータリテラシー 北大学 ＡＩ入門")
    found = tokens(text)
    assert {"data", "literacy", "for", "business", "ai"} <= found
    assert {"ビジ", "ジネ", "デー", "リテ", "北大", "大学", "入門"} <= found
    assert "北" not in found and "ビジネスのためのデータリテラシー" not in found
    assert word_terms("data") == [("data", True)]
    assert word_terms("データ") == [("デー", False), ("ータ", False)]
    assert word_terms("data実践") == [("実践", False)]  # "data" may end a longer word
    assert word_terms("北") == []  # one ideograph: the search text is scanned


@pytest.fixture
def searchable():
    north = OrganisationFactory(name="North University", name_ja="北大学", slug="north")
    cast = Cast(north)
    published_programme(cast, name_en="Data literacy for business", name_ja="ビジネスのためのデータリテラシー",
                        description_en="Reading tables and charts.", description_ja="表とグラフを読む。",
                        learning_outcomes=["Read a chart"], tags=["business"])
    published_programme(cast, name_en="Cloud operations", name_ja="クラウド運用", description_en="Operating services.",
                        description_ja="サービスの運用。", learning_outcomes=["Run a Kubernetes cluster"],
                        tags=["cloud", "DevOps"])
    published_programme(Cast(), name_en="Bigdata practice", name_ja="ビッグデータ実践", description_en="Pipelines.",
                        description_ja="パイプライン。", learning_outcomes=["Build a pipeline"], tags=["analytics"])
    registry_refresh()
    return north


QUERIES = ["data", "DATA", "ｄａｔａ", "データ", "データリテラシー", "リテラシー ビジネス", "北", "北大学", "大学",
           "クラウド", "kubernetes", "cluster kube", "north", "表", "グラフ", "ビッグデータ実践", "実践",
           "devops", "literacy cloud", "nothing", "デ", "practice"]


@pytest.mark.parametrize("query", QUERIES)
def test_the_index_finds_what_a_scan_of_the_search_text_finds(searchable, query):
    """The old search (every folded word a substring of the search text), except that a Latin word
    is found at the start of a word: "data" does not find "Bigdata" (documented)."""
    registry = registry_current()
    words = fold(query).split()
    entries = stored_entries()
    old = [e["id"] for e in entries if all(w in e["search_text"] for w in words)]
    at_word_start = [e["id"] for e in entries if all(
        w in e["search_text"] and all(any(t.startswith(term) for t in tokens(e["search_text"]))
                                      for term, prefix in word_terms(w) if prefix) for w in words)]
    found = [str(p) for p in registry_views.registry_search(registry, {"q": query}, timezone.now())
             .values_list("public_id", flat=True)]
    assert found == at_word_start
    if fold(query) != "data":
        assert found == old
    else:
        assert set(old) - set(found) == {e["id"] for e in entries if "bigdata" in e["search_text"]}


def test_search_in_japanese_and_english_on_the_page(client, searchable):
    page = client.get(reverse("registry:index"), {"q": "データ"}).content.decode()
    assert "Data literacy for business" in page and "Bigdata practice" in page and "Cloud operations" not in page
    page = client.get(reverse("registry:index"), {"q": "kubernetes"}).content.decode()
    assert "Cloud operations" in page and "Data literacy" not in page
    page = client.get(reverse("registry:index"), {"tag": "ANALYTICS"}).content.decode()
    assert "Bigdata practice" in page and "Data literacy for business" not in page
    assert sorted(registry_views._facets(registry_current())["tags"]) == ["analytics", "business", "cloud", "devops"]


def test_open_data_streamed_from_its_file_equals_the_small_body(client, searchable, monkeypatch):
    small = {name: client.get(reverse(f"registry:{name}")).content for name in ("json", "csv", "feed", "sitemap")}
    monkeypatch.setattr(registry_views, "INLINE_BYTES", 0)
    for name, body in small.items():
        response = client.get(reverse(f"registry:{name}"))
        assert response.streaming
        assert b"".join(response.streaming_content) == body
    registry_module._current = None


@pytest.mark.parametrize(("query", "page", "shown_page"), [("データ", "1", 1), ("データ", "2", 2), ("データ", "9", 2),
                                                           ("data", "1", 1), ("北大学", "2", 2), ("nothing", "3", 1),
                                                           ("データ", "9" * 30, 2), ("データ", "x", 1)])
def test_a_searched_page_counts_and_shows_what_the_search_finds(searchable, monkeypatch, query, page, shown_page):
    """One query gives a page's rows with the count of every match (COUNT(*) OVER ()); a page past
    the last shows the last. Pages of one entry, so that three entries make pages."""
    monkeypatch.setattr(registry_views, "PAGE_SIZE", 1)
    registry = registry_current()
    expected = [str(p) for p in registry_views.registry_search(registry, {"q": query}, timezone.now())
                .values_list("public_id", flat=True)]
    found = registry_views.registry_search(registry, {"q": query}, timezone.now())
    matched, number, rows = registry_views._searched_page(found, page)
    assert matched == len(expected)
    assert number == shown_page
    assert [str(row[0]) for row in rows] == expected[shown_page - 1:shown_page]
