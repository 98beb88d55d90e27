import json
import re
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import http_date

from endorsement import registry as registry_module
from endorsement import services
from endorsement.models import ApplicationState, RegistrySnapshot
from endorsement.registry import registry_refresh
from institutions.keys import organisation_did
from tests.factories import Cast, OrganisationFactory, ProgrammeFactory, application_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_language_left_behind():
    """A request in Japanese leaves Japanese active in this thread; later tests compare English."""
    yield
    translation.deactivate()


def publish(programme_kwargs=None, organisation=None):
    cast = Cast(organisation)
    programme = ProgrammeFactory(organisation=cast.organisation, **(programme_kwargs or {}))
    application, _ = application_in(ApplicationState.PUBLISHED, cast, programme=programme)
    return application, cast


@pytest.fixture
def registry():
    """Three published programmes of two organisations, one of them suspended, in a fresh snapshot."""
    north = OrganisationFactory(name="North University", name_ja="北大学", slug="north")
    south = OrganisationFactory(name="South Academy", name_ja="南アカデミー", slug="south")
    data, _ = publish({"name_en": "Data literacy", "name_ja": "データリテラシー", "level": "Level 5"}, north)
    cloud, cast = publish({
        "name_en": "Cloud operations", "name_ja": "クラウド運用", "level": "Level 6", "credential_pattern": "rpl",
        "learning_outcomes": ["Run a Kubernetes cluster", "Read a cloud bill"],
        "description_en": "Operating services in the cloud.", "description_ja": "クラウドでのサービス運用。",
    }, north)
    english_only, _ = publish({"name_en": "Welding safety", "name_ja": "", "level": "Level 3",
                               "learning_outcomes": ["Weld safely"]}, south)
    services.endorsement_suspend(actor=cast.manager, endorsement=cloud.endorsement, comment="Under investigation.")
    registry_refresh()
    return {"data": data, "cloud": cloud, "welding": english_only}


def names(response):
    html = response.content.decode()
    return {name for name in ("Data literacy", "Cloud operations", "Welding safety") if name in html}


def test_with_no_snapshot_yet_the_registry_is_empty_not_an_error(client):
    response = client.get(reverse("registry:index"))
    assert response.status_code == 200
    assert "The registry is empty" in response.content.decode()
    data = client.get(reverse("registry:json")).json()
    links = {"trust_list_credential": settings.SITE_URL + "/registry/trust-list.json",
             "openid_federation": settings.SITE_URL + "/.well-known/openid-federation"}
    assert data == {"generated_at": None, "digest": None, "count": 0, "links": links, "entries": [],
                    "organisations": [],
                    "pathways": []}
    assert client.get(reverse("registry:programme", args=[uuid.uuid4()])).status_code == 404


def test_the_registry_lists_every_published_programme_with_its_organisation_and_standing(client, registry):
    response = client.get(reverse("registry:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert names(response) == {"Data literacy", "Cloud operations", "Welding safety"}
    assert "North University" in html and "South Academy" in html
    assert "Level 6" in html and ">30<" in html  # the hours as a person writes them
    assert "Active" in html and "Suspended" in html
    until = registry["data"].endorsement.valid_until
    assert until.strftime("%Y") in html
    assert reverse("registry:programme", args=[registry["data"].programme.public_id]) in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "cloud"}, {"Cloud operations"}),
        ({"q": "KUBERNETES"}, {"Cloud operations"}),  # learning outcomes, any case
        ({"q": "ｃｌｏｕｄ"}, {"Cloud operations"}),  # full-width input
        ({"q": "クラウド"}, {"Cloud operations"}),  # the Japanese name
        ({"q": "サービス運用"}, {"Cloud operations"}),  # the Japanese description
        ({"q": "south"}, {"Welding safety"}),  # the organisation
        ({"q": "北大学"}, {"Data literacy", "Cloud operations"}),  # the organisation's Japanese name
        ({"q": "cloud weld"}, set()),  # every word must match
        ({"q": "nothing-like-this"}, set()),
        ({"organisation": "north"}, {"Data literacy", "Cloud operations"}),
        ({"level": "Level 3"}, {"Welding safety"}),
        ({"pattern": "rpl"}, {"Cloud operations"}),
        ({"standing": "suspended"}, {"Cloud operations"}),
        ({"standing": "active", "organisation": "north"}, {"Data literacy"}),
        ({"q": "literacy", "standing": "suspended"}, set()),
        ({"q": "business"}, {"Data literacy", "Cloud operations", "Welding safety"}),  # tags
    ],
)
def test_search_and_filters_narrow_the_registry(client, registry, query, expected):
    response = client.get(reverse("registry:index"), query)
    assert response.status_code == 200
    assert names(response) == expected


def test_an_unknown_filter_value_is_ignored_with_a_message_rather_than_failing(client, registry):
    response = client.get(reverse("registry:index"), {"standing": "glorious"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert names(response) == {"Data literacy", "Cloud operations", "Welding safety"}


def test_a_japanese_visitor_sees_japanese_names_with_english_as_the_fallback(client, registry):
    client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    html = client.get(reverse("registry:index")).content.decode()
    assert "クラウド運用" in html and "データリテラシー" in html
    assert "Welding safety" in html  # no Japanese name: the English one
    assert "北大学" in html


BROWSING = [
    ("registry:index", [], {}),
    ("registry:index", [], {"q": "cloud kubernetes", "organisation": "north", "level": "Level 6", "pattern": "rpl",
                            "standing": "suspended", "sort": "name", "tag": "data", "type": "MicroCredential",
                            "page": "1"}),
    ("registry:index", [], {"q": "データ", "sort": "hours", "page": "2"}),
    ("registry:organisation", ["north"], {}),
    ("registry:json", [], {}), ("registry:csv", [], {}), ("registry:feed", [], {}), ("registry:sitemap", [], {}),
]


def _queries_per_request(client, public_id) -> list[int]:
    """The queries of each browsing request, in a process that holds the newest snapshot's head
    but has not rendered these pages yet (its page fragments are cleared)."""
    client.get(reverse("registry:index"))  # the process loads the head and the filter choices
    registry_module.registry_current().memo.pop("fragments", None)
    counts = []
    for name, args, query in [*BROWSING, ("registry:programme", [public_id], {}),
                              ("registry:mark_svg", [public_id], {})]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(name, args=args), query).status_code == 200
        counts.append(len(captured))
    return counts


def test_browsing_costs_a_bounded_number_of_queries_whatever_the_size(client, registry):
    """Pages query the entries they show (a search: its page's ids and sort keys, counted up to
    COUNT_LIMIT in the same query, then those rows; with two index terms or more, one bounded count
    per term to match the rarest first), never the whole registry: the same number of queries at 3
    entries and at 28, but for an old `?page=N` link past the last, which asks for the count and the
    last page."""
    public_id = registry["cloud"].programme.public_id
    small = _queries_per_request(client, public_id)
    assert max(small) <= 7
    for n in range(25):
        publish({"name_en": f"Data practice {n}", "name_ja": f"データ実践{n}", "level": "Level 6"},
                registry["data"].organisation)
    registry_refresh()
    assert registry_module.registry_current().count == 28
    large = _queries_per_request(client, public_id)
    assert large[:2] + large[3:] == small[:2] + small[3:]
    # "データ" (two bigrams: two term counts), page 2: past the last page at 3 entries (the count,
    # then page 1 again), there at 28.
    assert (small[2], large[2]) == (7, 5)
    with CaptureQueriesContext(connection) as captured:  # a page seen before: its fragment, and the head only
        client.get(reverse("registry:index"))
    assert len(captured) == 1


def test_a_process_that_does_not_hold_the_newest_snapshot_loads_its_head_with_one_more_query(
        client, registry, django_assert_num_queries):
    client.get(reverse("registry:index"))
    with django_assert_num_queries(1):  # held: the head's id, digest and time only
        client.get(reverse("registry:index"))
    registry_module._current = None
    with django_assert_num_queries(2):  # the head again, then its organisations and pathways
        registry_module.registry_current()
    publish({"name_en": "A newer one"})
    registry_refresh()
    assert "A newer one" in client.get(reverse("registry:index")).content.decode()
    with django_assert_num_queries(1):
        client.get(reverse("registry:index"))


def test_the_registry_shows_the_snapshot_not_the_live_database(client, registry):
    publish({"name_en": "Not yet in the snapshot"})
    assert "Not yet in the snapshot" not in client.get(reverse("registry:index")).content.decode()
    registry_refresh()
    assert "Not yet in the snapshot" in client.get(reverse("registry:index")).content.decode()


def test_a_programme_page_shows_the_endorsement_and_the_programme(client, registry):
    cloud = registry["cloud"]
    response = client.get(reverse("registry:programme", args=[cloud.programme.public_id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Cloud operations" in html and "North University" in html
    assert "Suspended" in html
    assert "Run a Kubernetes cluster" in html
    assert "Recognition of prior learning" in html
    assert f"default, version {cloud.criteria_table.version}" in html


def test_a_programme_that_is_not_in_the_registry_has_no_page(client, registry):
    draft = ProgrammeFactory()
    assert client.get(reverse("registry:programme", args=[draft.public_id])).status_code == 404
    assert client.get(reverse("registry:programme", args=[uuid.uuid4()])).status_code == 404


def test_the_json_registry_carries_the_snapshot_entries_with_etag_and_last_modified(client, registry):
    snapshot = RegistrySnapshot.objects.order_by("-id").first()
    response = client.get(reverse("registry:json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["count"] == 3 and len(data["entries"]) == 3
    assert data["entries"] == [{k: v for k, v in e.items() if k != "search_text"} for e in snapshot.entries]
    assert data["organisations"] == snapshot.organisations
    assert data["digest"] == snapshot.digest
    assert data["generated_at"] == snapshot.generated_at.isoformat()
    assert response["ETag"] == f'"{snapshot.digest}"'
    assert response["Last-Modified"] == http_date(int(snapshot.generated_at.timestamp()))


def test_the_json_registry_answers_304_to_a_matching_etag_and_200_once_it_changed(client, registry):
    etag = client.get(reverse("registry:json"))["ETag"]
    not_modified = client.get(reverse("registry:json"), HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    assert client.get(reverse("registry:json"), HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    publish({"name_en": "A new one"})
    registry_refresh()
    changed = client.get(reverse("registry:json"), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()["count"] == 4


def test_a_head_request_for_the_json_registry_gets_the_validators(client, registry):
    response = client.head(reverse("registry:json"))
    assert response.status_code == 200
    assert response["ETag"].startswith('"') and response["Last-Modified"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type": "Certificate"}, {"Welding safety"}),
        ({"type": "MicroCredential"}, {"Data literacy", "Cloud operations"}),
        ({"tag": "welding"}, {"Welding safety"}),
        ({"tag": "WELDING"}, {"Welding safety"}),  # tags match in any case
        ({"tag": "weld"}, set()),  # a tag matches whole, not in part
        ({"tag": "business", "standing": "active"}, {"Data literacy", "Welding safety"}),
    ],
)
def test_achievement_type_and_tag_filters(client, registry_with_types, query, expected):
    assert names(client.get(reverse("registry:index"), query)) == expected


@pytest.fixture
def registry_with_types(registry):
    welding = registry["welding"]
    snapshot = dict(welding.snapshot, achievement_type="Certificate", tags=["welding", "business"])
    type(welding).objects.filter(pk=welding.pk).update(snapshot=snapshot)
    registry_refresh()
    return registry


def order_of(response) -> list[str]:
    html = response.content.decode()
    found = [(html.index(name), name) for name in ("Data literacy", "Cloud operations", "Welding safety")
             if name in html]
    return [name for _, name in sorted(found)]


def test_sorting_by_name_hours_and_end_of_the_endorsement(client, registry):
    Endorsement = type(registry["data"].endorsement)
    apps = registry
    for key, hours, days in (("data", "10.0", 300), ("cloud", "50.0", 100), ("welding", "20.0", 200)):
        app = apps[key]
        app.snapshot["learning_hours"] = hours
        type(app).objects.filter(pk=app.pk).update(snapshot=app.snapshot)
        Endorsement.objects.filter(pk=app.endorsement.pk).update(
            valid_until=app.endorsement.valid_from + timedelta(days=days))
    registry_refresh()
    index = reverse("registry:index")
    assert order_of(client.get(index, {"sort": "name"})) == ["Cloud operations", "Data literacy", "Welding safety"]
    assert order_of(client.get(index, {"sort": "hours"})) == ["Cloud operations", "Welding safety", "Data literacy"]
    assert order_of(client.get(index, {"sort": "valid_until"})) == ["Cloud operations", "Welding safety",
                                                                    "Data literacy"]
    newest = order_of(client.get(index))
    assert newest == order_of(client.get(index, {"sort": "newest"}))
    assert client.get(index, {"sort": "sideways"}).status_code == 200


def test_the_index_shows_25_programmes_a_page_with_links_to_the_others(client):
    cast = Cast()
    for n in range(27):
        publish({"name_en": f"Programme number {n:02d}", "tags": ["paged"]}, cast.organisation)
    registry_refresh()
    index = reverse("registry:index")
    first = client.get(index, {"tag": "paged"}).content.decode()
    assert first.count("Programme number") == 25
    assert "page 1 of 2" in first
    # The next page's link carries the place the page ended at (keyset), not a page number.
    link = re.search(r'href="\?tag=paged&amp;after=([\w-]+)" rel="next"', first)
    assert link and 'rel="prev"' not in first
    second = client.get(index, {"tag": "paged", "after": link.group(1)}).content.decode()
    assert second.count("Programme number") == 2
    assert "page 2 of 2" in second and 'rel="prev"' in second and 'rel="next"' not in second
    # An old page link still shows its page.
    old = client.get(index, {"tag": "paged", "page": "2"}).content.decode()
    assert old[old.index("<tbody>"):old.index("</nav>")] == second[second.index("<tbody>"):second.index("</nav>")]
    shown = {line for line in (first + second).split("Programme number ")[1:]}
    assert len({s[:2] for s in shown}) == 27
    assert client.get(index, {"page": "99"}).status_code == 200  # past the end: the last page
    assert client.get(index, {"page": "x"}).status_code == 200


def test_standing_is_told_in_words_and_symbols_and_an_endorsement_past_its_end_shows_expired(client, registry):
    data = registry["data"]
    type(data.endorsement).objects.filter(pk=data.endorsement.pk).update(
        valid_until=timezone.now() - timedelta(days=1))
    registry_refresh()
    html = client.get(reverse("registry:index")).content.decode()
    assert "✓</span> Active" in html
    assert "‖</span> Suspended" in html
    assert "○</span> Expired" in html
    assert html.count("Not in force") == 2
    assert names(client.get(reverse("registry:index"), {"standing": "expired"})) == {"Data literacy"}
    page = client.get(reverse("registry:programme", args=[data.programme.public_id])).content.decode()
    assert "Expired: the endorsement&#x27;s period has ended." in page


def test_a_programme_page_links_the_achievement_the_credential_the_mark_and_shows_the_figures(client, registry):
    cloud = registry["cloud"]
    html = client.get(reverse("registry:programme", args=[cloud.programme.public_id])).content.decode()
    assert reverse("achievement-json", args=[cloud.programme.public_id]) in html
    assert reverse("endorsement-credential", args=[cloud.endorsement.public_id]) in html
    assert reverse("registry:mark_svg", args=[cloud.programme.public_id]) in html
    assert "&lt;a href=" in html  # the snippet to copy, escaped in its text area
    assert "Issued through this registry" in html
    assert "has not reported badges issued on other platforms" in html
    assert reverse("registry:organisation", args=["north"]) in html


def test_an_organisation_page_shows_its_profile_membership_did_and_programmes(client, registry):
    north = registry["data"].organisation
    type(north).objects.filter(pk=north.pk).update(description="A university in the north.",
                                                   website="https://north.example.org/")
    registry_refresh()
    response = client.get(reverse("registry:organisation", args=["north"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "North University" in html and "北大学" in html
    assert "A university in the north." in html and "https://north.example.org/" in html
    assert "Active" in html
    assert organisation_did(north) in html
    assert reverse("organisation-did", args=["north"]) in html
    assert "Data literacy" in html and "Cloud operations" in html and "Welding safety" not in html


def test_an_organisation_not_in_the_registry_has_no_page(client, registry):
    OrganisationFactory(slug="applicant", membership="applied")
    registry_refresh()
    assert client.get(reverse("registry:organisation", args=["applicant"])).status_code == 404
    assert client.get(reverse("registry:organisation", args=["nobody"])).status_code == 404


def test_a_japanese_visitor_is_told_when_the_name_is_in_the_other_language(client, registry):
    client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    html = client.get(reverse("registry:programme", args=[registry["welding"].programme.public_id])).content.decode()
    assert '<h1 lang="en">Welding safety</h1>' in html  # shown in English, marked as such
    index = client.get(reverse("registry:index")).content.decode()
    assert 'lang="en">Welding safety</a>' in index
    assert 'lang="en">クラウド運用' not in index


@pytest.mark.django_db
def test_hours_are_written_as_a_person_writes_them(client):
    application, _ = application_in(ApplicationState.PUBLISHED)  # the factory's 30.0 hours
    programme = application.programme
    registry_refresh()
    pages = [client.get(reverse("registry:index"), HTTP_ACCEPT_LANGUAGE="ja").content.decode(),
             client.get(reverse("registry:programme", args=[programme.public_id])).content.decode(),
             client.get(reverse("registry:organisation", args=[programme.organisation.slug])).content.decode()]
    for page in pages:
        assert "30.0" not in page
    assert '<td data-label="時間数">30</td>' in pages[0]
    assert "<dd>30</dd>" in pages[1]
