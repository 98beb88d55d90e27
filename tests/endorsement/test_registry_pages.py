import json
import uuid

import pytest
from django.urls import reverse
from django.utils.http import http_date

from endorsement import registry as registry_module
from endorsement import services
from endorsement.models import ApplicationState, RegistrySnapshot
from endorsement.registry import registry_refresh
from tests.factories import Cast, OrganisationFactory, ProgrammeFactory, application_in

pytestmark = pytest.mark.django_db


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
    assert data == {"generated_at": None, "digest": None, "count": 0, "entries": [], "organisations": []}
    assert client.get(reverse("registry:programme", args=[uuid.uuid4()])).status_code == 404


def test_the_registry_lists_every_published_programme_with_its_organisation_and_standing(client, registry):
    response = client.get(reverse("registry:index"))
    html = response.content.decode()
    assert response.status_code == 200
    assert names(response) == {"Data literacy", "Cloud operations", "Welding safety"}
    assert "North University" in html and "South Academy" in html
    assert "Level 6" in html and "30.0" in html
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


def test_browsing_the_registry_costs_one_small_query_whatever_is_asked(client, registry, django_assert_num_queries):
    public_id = registry["cloud"].programme.public_id
    client.get(reverse("registry:index"))  # the process loads and keeps the newest snapshot
    with django_assert_num_queries(1):
        client.get(reverse("registry:index"))
    with django_assert_num_queries(1):
        client.get(reverse("registry:index"), {"q": "cloud kubernetes", "organisation": "north", "level": "Level 6",
                                               "pattern": "rpl", "standing": "suspended", "sort": "name",
                                               "tag": "data", "type": "MicroCredential", "page": "1"})
    with django_assert_num_queries(1):
        client.get(reverse("registry:programme", args=[public_id]))
    with django_assert_num_queries(1):
        client.get(reverse("registry:organisation", args=["north"]))
    for name in ("json", "csv", "feed", "sitemap"):
        with django_assert_num_queries(1):
            client.get(reverse(f"registry:{name}"))
    with django_assert_num_queries(1):
        client.get(reverse("registry:mark_svg", args=[public_id]))


def test_a_process_that_does_not_hold_the_newest_snapshot_loads_it_with_one_more_query(
        client, registry, django_assert_num_queries):
    registry_module._current = None
    with django_assert_num_queries(2):
        client.get(reverse("registry:index"))
    publish({"name_en": "A newer one"})
    registry_refresh()
    with django_assert_num_queries(2):
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
