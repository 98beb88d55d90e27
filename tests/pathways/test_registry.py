"""The registry's open data and pages for pathways: CSV, Atom, search in both languages, the
diagram's text alternative and escaping, and the flag when a component's endorsement expires."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from endorsement import services
from endorsement.models import Endorsement
from endorsement.registry import registry_refresh
from pathways.diagram import pathway_diagram
from tests.pathways.helpers import endorsed_programmes, pathway_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    first, second = endorsed_programmes()
    app, cast, pathway = pathway_in("published", programmes=(first, second))
    registry_refresh()
    return app, cast, pathway, first


def test_the_csv_has_one_row_per_pathway(client, published):
    app, _cast, pathway, _first = published
    response = client.get(reverse("registry:pathways_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["id", "url", "name_en", "name_ja"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["id"] == str(pathway.public_id)
    assert row["name_ja"] == "データアナリスト・パスウェイ"
    assert row["standing"] == "active"
    assert row["endorsement_credential_url"].endswith(str(app.endorsement.public_id))
    assert "https://mooc.example.org/achievements/statistics-101" in row["components"].split(";")


def test_the_feed_carries_the_pathway(client, published):
    _app, _cast, pathway, _first = published
    body = client.get(reverse("registry:feed")).content.decode()
    assert reverse("registry:pathway", args=[pathway.public_id]) in body
    assert 'term="pathway"' in body


@pytest.mark.parametrize("words", ["アナリスト", "analyst", "統計学", "ＡＮＡＬＹＳＴ"])
def test_the_index_finds_the_pathway_in_either_language(client, published, words):
    _app, _cast, pathway, _first = published
    page = client.get(reverse("registry:index"), {"q": words}).content.decode()
    assert reverse("registry:pathway", args=[pathway.public_id]) in page



def test_the_index_names_the_pathways_owner_in_the_visitors_language(client, published):
    _app, cast, _pathway, _first = published
    organisation = cast.organisation
    organisation.name, organisation.name_ja = "Minato Analytics School", "港アナリティクス学園"
    organisation.save(update_fields=["name", "name_ja"])
    registry_refresh()
    listing = {lang: client.get(reverse("registry:index"), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
               for lang in ("ja", "en")}
    assert "— 港アナリティクス学園" in listing["ja"] and "— Minato Analytics School" not in listing["ja"]
    assert "— Minato Analytics School" in listing["en"]

def test_the_index_leaves_out_a_pathway_the_words_do_not_match(client, published):
    _app, _cast, pathway, _first = published
    page = client.get(reverse("registry:index"), {"q": "zzzz-nothing"}).content.decode()
    assert reverse("registry:pathway", args=[pathway.public_id]) not in page


def test_the_page_has_the_rules_in_words_in_japanese(client, published):
    _app, _cast, pathway, _first = published
    page = client.get(reverse("registry:pathway", args=[pathway.public_id]), HTTP_ACCEPT_LANGUAGE="ja")
    text = page.content.decode()
    assert "次の構成要素から合計10時間以上を取得する：統計学入門（10時間）。" in text
    assert 'id="components"' in text


def test_the_diagram_escapes_what_it_draws():
    pathway = {
        "components": [{"code": "a", "name_en": "<script>alert(1)</script>", "hours": "5", "external": {
            "achievement_url": "https://x.example/a", "issuer_id": "did:web:x", "issuer_name": "X"}}],
        "rules": [{"kind": "all", "components": ["a"]}],
    }
    drawn = pathway_diagram(pathway, "en")
    assert "<script>" not in drawn["svg"]
    assert "&lt;script&gt;" in drawn["svg"]
    assert drawn["text"] == ("The pathway is complete when every rule below holds.\n\n"
                             "- Earn all of: <script>alert(1)</script>.")
    assert 'viewBox="0 0 360 ' in drawn["svg"] and 'width="100%"' in drawn["svg"]


def test_a_component_endorsement_expiring_without_successor_flags_the_pathway(published):
    _app, _cast, pathway, first = published
    endorsement = Endorsement.objects.get(programme=first, state="active")
    services.endorsements_expire_due(now=endorsement.valid_until + timedelta(seconds=1))
    pathway.refresh_from_db()
    assert pathway.flagged_at is not None
    assert "expired" in pathway.flag_reason
    assert pathway.flagged_at <= timezone.now()


def test_the_japanese_page_says_standing_hours_and_owner_in_japanese(client, published):
    _app, cast, pathway, _first = published
    cast.organisation.name_ja = "港大学"
    cast.organisation.save()
    registry_refresh()
    page = client.get(reverse("registry:pathway", args=[pathway.public_id]), HTTP_ACCEPT_LANGUAGE="ja")
    text = page.content.decode()
    assert "港大学" in text
    assert "<dt>状態</dt><dd>有効</dd>" in text
    assert "構成要素自体の認証：有効" in text
    assert ">active<" not in text and "：active" not in text
    assert ".0時間" not in text
