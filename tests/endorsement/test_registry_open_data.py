"""Open data of the registry: /registry.json, /registry.csv, /registry/feed.atom and /sitemap.xml,
each served from the newest snapshot with its digest as ETag and its time as Last-Modified."""

from __future__ import annotations

import csv
import gzip
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.http import http_date

from endorsement import services
from endorsement.models import ApplicationState, RegistrySnapshot
from endorsement.registry import registry_refresh
from endorsement.registry_views import CSV_COLUMNS
from tests.factories import Cast, OrganisationFactory, ProgrammeFactory, application_in

pytestmark = pytest.mark.django_db
ENDPOINTS = ["json", "csv", "feed", "sitemap"]
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def published():
    cast = Cast(OrganisationFactory(name="North University", name_ja="北大学", slug="north"))
    first, _ = application_in(ApplicationState.PUBLISHED, cast, programme=ProgrammeFactory(
        organisation=cast.organisation, name_en="Data literacy", name_ja="データリテラシー"))
    second, _ = application_in(ApplicationState.PUBLISHED, cast, programme=ProgrammeFactory(
        organisation=cast.organisation, name_en="=HYPERLINK(\"http://evil.example\")", name_ja=""))
    services.endorsement_suspend(actor=cast.manager, endorsement=second.endorsement, comment="Check.")
    registry_refresh()
    return {"first": first, "second": second, "cast": cast}


@pytest.mark.parametrize("name", ENDPOINTS)
def test_each_open_data_endpoint_carries_the_snapshot_digest_and_time(client, published, name):
    snapshot = RegistrySnapshot.objects.latest()
    response = client.get(reverse(f"registry:{name}"))
    assert response.status_code == 200
    assert response["ETag"] == f'"{snapshot.digest}"'
    assert response["Last-Modified"] == http_date(int(snapshot.generated_at.timestamp()))


@pytest.mark.parametrize("name", ENDPOINTS)
def test_each_open_data_endpoint_answers_304_to_the_etag_or_a_recent_if_modified_since(client, published, name):
    url = reverse(f"registry:{name}")
    first = client.get(url)
    by_etag = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert by_etag.status_code == 304 and by_etag.content == b""
    assert by_etag["ETag"] == first["ETag"]
    by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert by_date.status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"another"').status_code == 200
    assert client.get(url, HTTP_IF_MODIFIED_SINCE="Mon, 01 Jan 2001 00:00:00 GMT").status_code == 200


@pytest.mark.parametrize("name", ENDPOINTS)
def test_each_open_data_endpoint_changes_etag_once_the_registry_changes(client, published, name):
    url = reverse(f"registry:{name}")
    etag = client.get(url)["ETag"]
    application_in(ApplicationState.PUBLISHED, published["cast"])
    registry_refresh()
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_the_csv_has_one_row_per_programme_under_the_documented_columns(client, published):
    response = client.get(reverse("registry:csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0].keys()) == CSV_COLUMNS
    by_id = {row["id"]: row for row in rows}
    first = by_id[str(published["first"].programme.public_id)]
    assert first["name_ja"] == "データリテラシー"
    assert first["organisation_slug"] == "north" and first["organisation_name_ja"] == "北大学"
    assert first["standing"] == "active"
    assert first["endorsement_credential_url"].endswith(str(published["first"].endorsement.public_id))
    assert first["tags"] == "data;business"
    assert first["badges_issued_here"] == "0"
    second = by_id[str(published["second"].programme.public_id)]
    assert second["standing"] == "suspended"
    assert second["name_en"].startswith("'=")  # a spreadsheet would run it as a formula otherwise


def test_the_atom_feed_parses_and_lists_the_newly_endorsed_programmes(client, published):
    response = client.get(reverse("registry:feed"))
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)  # noqa: S314 (our own output)
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}id") is not None and feed.find(f"{ATOM}updated") is not None
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    titles = {e.find(f"{ATOM}title").text for e in entries}
    assert "Data literacy / データリテラシー" in titles
    for entry in entries:
        assert entry.find(f"{ATOM}id").text.startswith(settings.SITE_URL + "/registry/")
        assert entry.find(f"{ATOM}updated").text and entry.find(f"{ATOM}link").get("href")
    categories = {c.get("term") for e in entries for c in e.findall(f"{ATOM}category")}
    assert {"active", "suspended"} <= categories


def test_the_sitemap_lists_the_registry_programme_and_organisation_pages(client, published):
    response = client.get(reverse("registry:sitemap"))
    root = ET.fromstring(response.content)  # noqa: S314 (our own output)
    locations = {url.find(f"{SITEMAP}loc").text for url in root.findall(f"{SITEMAP}url")}
    site = settings.SITE_URL
    assert site + reverse("registry:index") in locations
    for key in ("first", "second"):
        assert site + reverse("registry:programme", args=[published[key].programme.public_id]) in locations
    assert site + reverse("registry:organisation", args=["north"]) in locations


def test_json_and_csv_are_gzipped_for_clients_that_accept_it_with_their_own_etag(client, published):
    plain = client.get(reverse("registry:json"))
    zipped = client.get(reverse("registry:json"), HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert zipped["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(zipped.content)) == json.loads(plain.content)
    assert zipped["ETag"] != plain["ETag"]
    assert "Accept-Encoding" in zipped["Vary"]
    assert client.get(reverse("registry:json"), HTTP_ACCEPT_ENCODING="gzip",
                      HTTP_IF_NONE_MATCH=zipped["ETag"]).status_code == 304
    csv_zipped = client.get(reverse("registry:csv"), HTTP_ACCEPT_ENCODING="gzip")
    assert gzip.decompress(csv_zipped.content) == client.get(reverse("registry:csv")).content


def test_the_json_entries_leave_out_the_internal_search_text_and_list_organisations(client, published):
    data = client.get(reverse("registry:json")).json()
    assert all("search_text" not in entry for entry in data["entries"])
    assert [o["slug"] for o in data["organisations"] if o["slug"] == "north"] == ["north"]
    assert data["count"] == 2


@pytest.mark.parametrize("name", ENDPOINTS)
def test_with_no_snapshot_yet_open_data_is_empty_but_well_formed(client, name):
    response = client.get(reverse(f"registry:{name}"))
    assert response.status_code == 200
    if name == "json":
        assert response.json()["entries"] == []
    elif name == "csv":
        assert response.content.decode("utf-8-sig").strip() == ",".join(CSV_COLUMNS)
    else:
        ET.fromstring(response.content)  # noqa: S314 (our own output)
