"""The registry refreshed by change: each change notes its programmes in its own transaction, the
refresh renders only those entries, and the result is what a full rebuild renders. The search
index (words and Japanese bigrams) finds what a scan of the search text finds."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from badges.awards import award_issue, award_revoke
from endorsement import registry as registry_module
from endorsement import registry_views, services
from endorsement.models import (
    TOKEN_FILTER_COLUMNS,
    Application,
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
    index = sorted(RegistryToken.objects.values_list("entry__public_id", "token", *TOKEN_FILTER_COLUMNS))
    # Each token carries its entry's filter columns (a filtered search reads them there).
    copied = [f"entry__{name}" for name in TOKEN_FILTER_COLUMNS]
    assert all(row[:len(TOKEN_FILTER_COLUMNS)] == row[len(TOKEN_FILTER_COLUMNS):]
               for row in RegistryToken.objects.values_list(*TOKEN_FILTER_COLUMNS, *copied))
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
def test_an_old_page_link_shows_that_page_of_what_the_search_finds(searchable, monkeypatch, query, page, shown_page):
    """`?page=N` (the links before keyset pages) still shows page N; a page past the last shows the
    last. Pages of one entry, so that three entries make pages."""
    monkeypatch.setattr(registry_views, "PAGE_SIZE", 1)
    expected = [str(p) for p in registry_views.registry_search(registry_current(), {"q": query}, timezone.now())
                .values_list("public_id", flat=True)]
    keys = registry_views._sort_keys("newest", "en")
    found, bad = registry_views._page_of(registry_views._matching({"q": query}, timezone.now()), keys, {"page": page})
    assert not bad
    assert found.number == shown_page
    assert [str(row[0]) for row in found.rows] == expected[shown_page - 1:shown_page]
    assert (found.next is not None) == (shown_page < len(expected))


@pytest.fixture
def many(searchable):
    """Eleven entries with ties on every sort key but the last (the same name, the same hours, no
    hours), in two organisations, levels, patterns and types, one suspended, Japanese and English."""
    south = OrganisationFactory(name="South Academy", name_ja="南アカデミー", slug="south")
    for n, (hours, level, org) in enumerate([("10", "Level 5", south), ("10", "Level 6", south), ("", "Level 5", None),
                                             ("", "Level 5", south), ("45", "Level 6", None), ("10", "Level 5", None),
                                             ("7.5", "Level 5", south), ("", "Level 6", south)]):
        application, cast = published_programme(
            Cast(org) if org else Cast(), name_en="Same name data" if n % 3 else f"Data course {n}",
            name_ja="同じ名前のデータ講座" if n % 2 else f"データ分析{n}", learning_hours=hours or "1", level=level,
            description_en="Reading tables.", description_ja="表を読む。", tags=["data", "paged"],
            credential_pattern="rpl" if n % 2 else "embedded", achievement_type="Course" if n % 3 else "Badge")
        if not hours:  # an entry without hours (a programme cannot be submitted without: its frozen copy)
            snapshot = Application.objects.get(pk=application.pk).snapshot
            Application.objects.filter(pk=application.pk).update(snapshot={**snapshot, "learning_hours": None})
        if n == 4:
            services.endorsement_suspend(actor=cast.manager, endorsement=application.endorsement, comment="Checked.")
    registry_refresh()
    return south


def _walk(criteria, keys, backwards=False):
    """Every page of a search, following the next links from the first page (or the previous links
    from the last), and the page numbers shown."""
    matches = registry_views._matching(criteria, timezone.now())
    page, bad = registry_views._page_of(matches, keys, {})
    assert not bad
    if backwards:
        while page.next:
            page, bad = registry_views._page_of(matches, keys, {"after": page.next})
    pages = [page]
    while (page.previous if backwards else page.next):
        link = {"before": page.previous} if backwards else {"after": page.next}
        page, bad = registry_views._page_of(matches, keys, link)
        assert not bad
        pages.append(page)
    if backwards:
        pages.reverse()
    return [str(row[0]) for p in pages for row in p.rows], [p.number for p in pages]


WALKS = [{}, {"q": "data"}, {"q": "データ"}, {"q": "北"}, {"q": "表"}, {"q": "data 講座"}, {"tag": "paged"},
         {"level": "Level 5"}, {"q": "data", "organisation": "south"},
         {"q": "データ", "standing": "active", "pattern": "rpl", "type": "Course"}, {"q": "nothing"}]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_keyset_walk_over_every_page_equals_the_full_result_list(many, monkeypatch, language):
    """Following the next links from the first page, or the previous links from the last, shows
    every match once, in the order of the whole result list, whatever the sort (ties broken by the
    registry's own order), the filters, the script and the language of the sort name."""
    monkeypatch.setattr(registry_views, "PAGE_SIZE", 2)
    for sort in ("newest", "name", "hours", "valid_until"):
        for criteria in [{**c, "sort": sort} for c in WALKS]:
            with translation.override(language):
                expected = [str(p) for p in registry_views.registry_search(registry_current(), criteria,
                                                                           timezone.now())
                            .values_list("public_id", flat=True)]
                keys = registry_views._sort_keys(sort, language)
                forwards, numbers = _walk(criteria, keys)
                assert forwards == expected, criteria
                assert numbers == list(range(1, len(numbers) + 1)), criteria
                assert _walk(criteria, keys, backwards=True) == (expected, numbers), criteria
            if criteria.get("q") not in ("nothing", "北"):
                assert len(expected) >= 3, criteria  # the walk has pages to walk


def test_filters_and_words_combined_find_what_the_entries_say(many):
    """The filter columns the tokens carry give what the entries' own columns give."""
    now = timezone.now()
    entries = list(RegistryEntry.objects.all())
    cases = [({"q": "data", "organisation": "south"}, lambda e: e.organisation_slug == "south"),
             ({"q": "データ", "level": "Level 6", "type": "Course"},
              lambda e: e.level == "Level 6" and e.achievement_type == "Course"),
             ({"tag": "paged", "pattern": "embedded", "standing": "suspended"},
              lambda e: e.credential_pattern == "embedded" and e.state == "suspended"),
             ({"q": "same", "standing": "active"}, lambda e: e.state == "active")]
    for criteria, keep in cases:
        words = fold(criteria.get("q", "")).split()
        expected = {str(e.public_id) for e in entries if keep(e) and all(
            w in e.search_text and all(any(t.startswith(term) for t in tokens(e.search_text))
                                       for term, prefix in word_terms(w) if prefix) for w in words)
            and (not criteria.get("tag") or f"\n{criteria['tag']}\n" in e.tags)}
        found = {str(p) for p in registry_views.registry_search(registry_current(), criteria, now)
                 .values_list("public_id", flat=True)}
        assert found == expected, criteria
        assert found, criteria


def test_a_stale_cursor_continues_from_its_place_in_the_newest_version(many, monkeypatch):
    """A link made before a change still leads on from the row it ended at: the rows after that
    row's sort key in the newest version, none shown twice; a link past what is left now shows the
    last page."""
    monkeypatch.setattr(registry_views, "PAGE_SIZE", 3)
    keys = registry_views._sort_keys("newest", "en")
    criteria = {"q": "data"}
    matches = registry_views._matching(criteria, timezone.now())
    first, _bad = registry_views._page_of(matches, keys, {})
    last_shown = str(first.rows[-1][0])
    # The row it ended at is suspended (rewritten: a new row, the same sort key) and a programme is
    # published since (newest endorsed: first in the order, before the link's place).
    entry = RegistryEntry.objects.get(public_id=last_shown)
    endorsement = Endorsement.objects.get(programme_id=entry.programme_id)
    services.endorsement_suspend(actor=Cast(endorsement.organisation).manager, endorsement=endorsement,
                                 comment="Checked.")
    published_programme(name_en="Data newest")
    registry_refresh()
    assert RegistryEntry.objects.get(public_id=last_shown).pk != entry.pk
    newest = [str(p) for p in registry_views.registry_search(registry_current(), criteria, timezone.now())
              .values_list("public_id", flat=True)]
    matches = registry_views._matching(criteria, timezone.now())
    second, bad = registry_views._page_of(matches, keys, {"after": first.next})
    assert not bad and second.number == 2
    assert [str(row[0]) for row in second.rows] == newest[newest.index(last_shown) + 1:][:3]
    # A link past the end of what is left: the last page.
    end = registry_views._cursor(9, tuple(RegistryEntry.objects.filter(public_id=newest[-1])
                                          .values_list("valid_from", "programme_id").get()))
    past, bad = registry_views._page_of(matches, keys, {"after": end})
    assert not bad and past.next is None and past.number == 8
    assert [str(row[0]) for row in past.rows] == newest[-3:]
    # A link back from a place with nothing before it now: the first page.
    start = registry_views._cursor(4, tuple(RegistryEntry.objects.filter(public_id=newest[0])
                                            .values_list("valid_from", "programme_id").get()))
    back, bad = registry_views._page_of(matches, keys, {"before": start})
    assert not bad and back.number == 1 and back.previous is None
    assert [str(row[0]) for row in back.rows] == newest[:3]


def _b64(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


MOMENT = '"2026-01-01T00:00:00+00:00"'
HOSTILE = ["x", "!!!", "%00", _b64("[1]"), _b64(f"[1,[{MOMENT}]]"), _b64(f"[0,[{MOMENT},1]]"),
           _b64(f"[true,[{MOMENT},1]]"), _b64('[2,["2026-01-01T00:00:00",1]]'),
           _b64(f"[2,[{MOMENT},99999999999999999999999]]"), _b64(f"[2,[{MOMENT},1.5]]"), _b64(f"[2,[{MOMENT},true]]"),
           _b64('[2,["yesterday",1]]'), _b64("[2,[NaN,1]]"), _b64('[2,[["nested"],1]]'), _b64("{}"), _b64("null"),
           _b64(f"[2,[{MOMENT},1]]") + "x", "A" * 5000, "é"]
HOSTILE_NAMES = [_b64(f'[2,["a\\u0000b",{MOMENT},1]]'), _b64(f"[2,[12,{MOMENT},1]]"),
                 _b64(f'[2,["{"a" * 300}",{MOMENT},1]]')]
HOSTILE_HOURS = [_b64(f"[2,[1e999,{MOMENT},1]]"), _b64(f'[2,["10",{MOMENT},1]]')]


@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_hostile_cursor_shows_the_first_page_with_a_message_never_an_error(client, many, monkeypatch, direction):
    monkeypatch.setattr(registry_views, "PAGE_SIZE", 2)
    index = reverse("registry:index")

    def rows(page):
        return page[page.index("<tbody>"):page.index("</tbody>")]

    for sort, cursors in [("newest", HOSTILE), ("name", HOSTILE_NAMES), ("hours", HOSTILE_HOURS)]:
        first = rows(client.get(index, {"q": "data", "sort": sort}).content.decode())
        for cursor in cursors:
            response = client.get(index, {"q": "data", "sort": sort, direction: cursor})
            assert response.status_code == 200, cursor
            page = response.content.decode()
            assert "This page link is not valid" in page, cursor
            assert rows(page) == first, cursor
    # A cursor of one sort given to another is not one of its cursors either.
    link = registry_views._cursor(2, ("2026-01-01T00:00:00+00:00", 1))
    assert "This page link is not valid" in client.get(index, {"sort": "name", direction: link}).content.decode()


def test_a_search_counts_exactly_up_to_the_limit_then_says_more_than(client, many, monkeypatch):
    monkeypatch.setattr(registry_views, "PAGE_SIZE", 2)
    index = reverse("registry:index")
    matched = registry_views.registry_search(registry_current(), {"tag": "paged"}, timezone.now()).count()
    assert matched == 8
    page = client.get(index, {"tag": "paged"}).content.decode()
    assert "8 programmes of 11 match." in page and "page 1 of 4" in page
    monkeypatch.setattr(registry_views, "COUNT_LIMIT", 5)
    registry_current().memo.pop("fragments", None)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(index, {"tag": "paged"}).content.decode()
    assert "More than 5 programmes of 11 match." in page and "(page 1)." in page
    # Counted once, with the page (up to the limit and one more): not a second time for the total.
    assert sum(" COUNT(" in query["sql"].upper() for query in captured.captured_queries) == 1
    page = client.get(index, {"tag": "paged", "level": "Level 6"}).content.decode()  # 3 on two pages: exact
    assert "3 programmes of 11 match." in page and "page 1 of 2" in page
