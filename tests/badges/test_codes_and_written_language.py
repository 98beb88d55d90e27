"""Codes shown as words in the visitor's language (kept as codes in JSON), and programme content
given in one language only marked with `lang` and the note on pages in the other language: the
registry and its programme page, the portal, the badge page and the verification report."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from badges.achievements import achievement_document
from badges.awards import award_issue
from badges.codes import achievement_type_label, country_name, language_name, participation_label
from config.i18n import text_language, written_in
from endorsement.models import ApplicationState, Endorsement
from endorsement.registry import registry_refresh
from tests.factories import PASSWORD, Cast, ProgrammeFactory, api_client, application_in, awarding_setup, login_request

pytestmark = pytest.mark.django_db

NOTE_JA = "日本語の情報はありません。英語で表示しています。"
NOTE_EN = "No English text was provided; shown in Japanese."
ENGLISH = {"name_en": "Welding safety", "name_ja": "溶接の安全", "description_en": "Safe welding.",
           "description_ja": "安全な溶接。", "language": "en", "achievement_type": "MicroCredential",
           "participation_form": "on_site", "country": "JP"}
JAPANESE_CONTENT = {"criteria_narrative": "課題3件に合格すること。", "learning_outcomes": ["表を整形する"],
                    "level": "レベル5", "level_framework": "欧州資格枠組み", "assessment_method": "課題の採点。",
                    "evidence_policy": "提出物を保存する。", "quality_assurance": "外部評価。", "tags": ["データ"],
                    "alignments": [{"name": "データ活用", "url": "https://example.org/skills/data"}]}


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    translation.deactivate()


# --- one mapping per code list --------------------------------------------------------------------
@pytest.mark.parametrize(("language", "words"), [
    ("en", ("Micro-credential", "Japanese", "Traditional Chinese", "Portuguese (Brazil)", "Japan", "On site")),
    ("ja", ("マイクロクレデンシャル", "日本語", "繁体中国語", "ポルトガル語（ブラジル）", "日本", "対面")),
])
def test_codes_are_words_in_the_visitors_language(language, words):
    with translation.override(language):
        assert (achievement_type_label("MicroCredential"), language_name("ja"), language_name("zh-Hant"),
                language_name("pt-BR"), country_name("JP"), participation_label("on_site")) == words


def test_an_unknown_code_is_shown_as_it_is():
    with translation.override("ja"):
        assert (achievement_type_label("Spaceflight"), language_name("qqq"), language_name("not a code"),
                country_name("ZZ9"), language_name(""), country_name(None)) == (
            "Spaceflight", "qqq", "not a code", "ZZ9", "", "")


# --- the language of a text given in one language only ----------------------------------------------
@pytest.mark.parametrize(("value", "declared", "expected"), [
    ("Pass three assignments.", "ja", "en"),  # the default "ja" is not believed for Latin text
    ("課題に合格すること。", "en", "ja"),
    (["Clean data", "グラフを選ぶ"], "en", "ja"),
    ([{"name": "Data literacy", "url": "https://例え.jp/"}], "", "en"),  # an alignment's URL is not words
    ("30", "ja", ""),
    ("Réussir trois devoirs.", "fr", "fr"),
])
def test_the_language_of_a_text_is_told_by_its_script(value, declared, expected):
    assert text_language(value, declared) == expected


def test_a_programme_written_in_english_is_a_fallback_for_japanese_visitors_only():
    programme = ProgrammeFactory.build(language="ja")  # the factory's outcomes and criteria are English
    assert written_in(programme, "ja").fallback and written_in(programme, "ja").lang == "en"
    assert not written_in(programme, "en").fallback
    assert written_in(ProgrammeFactory.build(**JAPANESE_CONTENT), "en").lang == "ja"


# --- pages ----------------------------------------------------------------------------------------
def published(**fields):
    cast = Cast()
    programme = ProgrammeFactory(organisation=cast.organisation, **{**ENGLISH, **fields})
    application_in(ApplicationState.PUBLISHED, cast, programme=programme)
    registry_refresh()
    return programme, cast


def page(client, url, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_registry_programme_page_marks_english_content_and_shows_codes_as_words(client):
    programme, _ = published()
    url = f"/registry/{programme.public_id}/"
    html = page(client, url, "ja")
    section = html[html.index('id="programme-title"'):html.index('id="organisation-title"')]
    assert section.count(f'<p class="lang-note muted">{NOTE_JA}</p>') == 1  # once for the section
    assert '<dt>学修成果</dt><dd lang="en"><ul><li>Clean a tabular data set</li>' in section
    assert '<dt>発行基準</dt><dd lang="en">Pass three assessed assignments' in section
    assert '<dd lang="en">Level 5 (European Qualifications Framework)</dd>' in section
    assert "<dd>マイクロクレデンシャル</dd>" in section and "<dd>英語</dd>" in section and "<dd>対面</dd>" in section
    assert "MicroCredential" not in section and "on_site" not in section
    assert "日本）" in html  # the organisation's country, JP
    english = page(client, url, "en")
    section = english[english.index('id="programme-title"'):english.index('id="organisation-title"')]
    assert "lang-note" not in section and 'lang="en"' not in section
    assert "<dd>Micro-credential</dd>" in section and "<dd>English</dd>" in section


def test_japanese_content_is_marked_for_english_visitors(client):
    programme, _ = published(language="ja", **JAPANESE_CONTENT)
    html = page(client, f"/registry/{programme.public_id}/", "en")
    assert f'<p class="lang-note muted">{NOTE_EN}</p>' in html
    assert '<dd lang="ja">課題3件に合格すること。</dd>' in html and "<dd>Japanese</dd>" in html


def test_the_registry_list_and_its_filter_show_the_achievement_type_as_a_word_and_json_keeps_the_code(client):
    published()
    html = page(client, "/registry/", "ja")
    assert "· マイクロクレデンシャル</span>" in html
    assert re.search(r'<option value="MicroCredential"[^>]*>マイクロクレデンシャル</option>', html)
    assert '<td data-label="水準" lang="en">Level 5' in html  # data-label: the row's heading on a phone
    data = client.get("/registry.json").json()
    programmes = [p for p in (data.get("programmes") or data.get("items") or data["entries"])]
    assert {p["programme"]["achievement_type"] for p in programmes} == {"MicroCredential"}
    assert {p["programme"]["language"] for p in programmes} == {"en"}


def test_the_portal_programme_page_marks_english_content_and_the_api_keeps_codes():
    programme, cast = published()
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    assert client.login(request=login_request(), username=cast.editor.username, password=PASSWORD)
    html = client.get(f"/portal/programmes/{programme.public_id}/").content.decode()
    details = html[html.rindex('<dl class="details">'):]
    assert html.count(f'<p class="lang-note muted">{NOTE_JA}</p>') == 1
    assert '<dd lang="en">Pass three assessed assignments with at least 60%.</dd>' in details
    assert '<dd lang="en"><ul><li>Clean a tabular data set</li>' in details
    assert '<dd lang="en">Welding safety</dd>' in details and "<dd>溶接の安全</dd>" in details
    for word in ("<dd>マイクロクレデンシャル</dd>", "<dd>英語</dd>", "<dd>日本</dd>", "<dd>対面</dd>"):
        assert word in details
    body = api_client(cast.editor).get(f"/api/v1/programmes/{programme.public_id}").json()
    assert (body["achievement_type"], body["language"], body["country"], body["participation_form"]) == (
        "MicroCredential", "en", "JP", "on_site")


def test_the_badge_page_and_its_report_mark_the_english_achievement_for_a_japanese_visitor(client):
    programme, _, _, issuer = awarding_setup(**{**ENGLISH, "name_ja": "", "description_ja": ""})
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    html = page(client, f"/badges/{award.public_id}", "ja")
    assert '<ul class="tight" lang="en"><li>Clean a tabular data set</li>' in html
    # the criteria are said once, in the report's "Earned by:" line
    assert '<span lang="en">Pass three assessed assignments with at least 60%.</span>' in html
    assert "<dd>マイクロクレデンシャル</dd>" in html
    report = html[html.index('id="words-achievement"'):html.index('id="words-when"')]
    assert 'アチーブメント「<span lang="en">Welding safety</span>」' in report or \
        '<span lang="en">Welding safety</span>' in report
    assert f'<small class="lang-note muted">{NOTE_JA}</small>' in report
    criteria = html[html.index('id="words-criteria"'):]
    assert '<span lang="en">Pass three assessed assignments' in criteria
    english = page(client, f"/badges/{award.public_id}", "en")
    report = english[english.index('id="words-achievement"'):english.index('id="words-when"')]
    assert "lang-note" not in report and 'lang="' not in report and "<dd>Micro-credential</dd>" in english


# --- the Achievement's own labels -----------------------------------------------------------------
@pytest.mark.parametrize(("language", "outcomes", "hours"), [
    ("ja", "学修成果：\n- 表を整形する", "想定学修時間：30.0時間"),
    ("en", "Learning outcomes:\n- 表を整形する", "Notional learning hours: 30.0"),
])
def test_the_achievement_description_labels_follow_the_programmes_language(language, outcomes, hours):
    programme = ProgrammeFactory(language=language, learning_outcomes=["表を整形する"], learning_hours="30.0")
    content = {"language": language, "name_ja": "データ", "name_en": "Data", "description_ja": "説明。",
               "description_en": "About.", "learning_outcomes": ["表を整形する"], "learning_hours": "30.0"}
    with translation.override("en" if language == "ja" else "ja"):  # the reader's language does not matter
        description = achievement_document(programme, content)["description"]
    assert outcomes in description and hours in description


def test_portal_headings_mark_a_programme_name_in_the_other_language():
    programme, _, _, issuer = awarding_setup(name_en="Welding safety", name_ja="")
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    assert client.login(request=login_request(), username=issuer.username, password=PASSWORD)
    for url in (f"/portal/programmes/{programme.public_id}/awards/",
                f"/portal/programmes/{programme.public_id}/award-batches/new/"):
        html = client.get(url).content.decode()
        heading = re.search(r"<h1>(.*?)</h1>", html).group(1)
        assert '<span lang="en">Welding safety</span>' in heading
        assert '<span lang="en">' not in html[html.index("<title>"):html.index("</title>")]


def test_the_bodys_comment_and_an_organisations_description_carry_their_language(client):
    programme, _cast = published()
    organisation = programme.organisation
    organisation.description = "A university of applied sciences."
    organisation.save()
    Endorsement.objects.filter(application__programme=programme).update(comment="Meets every criterion.")
    registry_refresh()
    html = page(client, f"/registry/{programme.public_id}/", "ja")
    assert '<dd lang="en">Meets every criterion.</dd>' in html
    html = page(client, f"/registry/organisations/{organisation.slug}/", "ja")
    assert '<p lang="en">A university of applied sciences.</p>' in html
