"""Japanese and English: the compiled catalogue, pages in Japanese by browser or by choice, and
programme content in the visitor's language with a marked fallback (config/i18n.py)."""

from __future__ import annotations

import ast
import gettext as gettext_module
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template, TemplateSyntaxError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from badges.awards import award_issue
from config.i18n import in_language
from endorsement.models import ApplicationState
from endorsement.registry import registry_refresh
from tests.conftest import need
from tests.factories import Cast, ProgrammeFactory, application_in, awarding_setup

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent


# --- The helper ---------------------------------------------------------------------------------
def test_the_visitors_language_is_shown_when_the_organisation_gave_it():
    content = {"name_en": "Data literacy", "name_ja": "データリテラシー"}
    with translation.override("ja"):
        shown = in_language(content, "name")
    assert (shown.text, shown.lang, shown.fallback, shown.note) == ("データリテラシー", "ja", False, "")
    with translation.override("en"):
        shown = in_language(content, "name")
    assert (shown.text, shown.lang, shown.fallback) == ("Data literacy", "en", False)


def test_without_japanese_text_a_japanese_visitor_gets_the_english_text_and_a_note():
    programme = ProgrammeFactory.build(name_en="Welding safety", name_ja="")
    with translation.override("ja"):
        shown = in_language(programme, "name")
        html = str(shown.inline())
    assert (shown.text, shown.lang, shown.fallback, shown.visitor) == ("Welding safety", "en", True, "ja")
    assert shown.note == "日本語の情報はありません。英語で表示しています。"
    assert html == ('<span lang="en">Welding safety</span>'
                    '<small class="lang-note muted">日本語の情報はありません。英語で表示しています。</small>')


def test_without_english_text_an_english_visitor_gets_the_japanese_text_and_a_note():
    with translation.override("en"):
        shown = in_language({"description_en": "  ", "description_ja": "溶接の安全\n第二行"}, "description")
        block = str(shown.block())
    assert (shown.lang, shown.fallback) == ("ja", True)
    assert block == ('<div lang="ja">溶接の安全<br>第二行</div>'
                     '<p class="lang-note muted">No English text was provided; shown in Japanese.</p>')


def test_nothing_in_either_language_is_empty_and_not_called_a_fallback():
    with translation.override("ja"):
        shown = in_language({"name_en": "", "name_ja": None}, "name")
    assert (shown.text, shown.fallback, str(shown.inline()), str(shown.block())) == ("", False, "", "")
    assert not shown


def test_the_text_is_escaped_in_every_form():
    content = {"name_en": "<b>Bold</b> & co", "name_ja": ""}
    with translation.override("ja"):
        shown = in_language(content, "name")
        assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in str(shown.inline())
        assert "&lt;b&gt;" in str(shown.block())
        rendered = Template('{% load bilingual %}<title>{{ c|in_language:"name" }}</title>').render(
            Context({"c": content}))
    assert rendered == "<title>&lt;b&gt;Bold&lt;/b&gt; &amp; co</title>"


def test_the_template_tag_renders_inline_block_text_and_stores_the_choice():
    content = {"name_en": "Welding safety", "name_ja": "", "description_en": "Line one\nLine two",
               "description_ja": "説明"}
    template = Template(
        '{% load bilingual %}<h1>{% bilingual c "name" %}</h1>|{% bilingual c "description" "block" %}|'
        '{% bilingual c "name" "text" %}|{% bilingual c "name" as shown %}{{ shown.lang }} {{ shown.fallback }}'
    )
    with translation.override("ja"):
        html = template.render(Context({"c": content}))
    assert html == (
        '<h1><span lang="en">Welding safety</span><small class="lang-note muted">'
        "日本語の情報はありません。英語で表示しています。</small></h1>|説明|Welding safety|en True"
    )
    with translation.override("en"):
        html = template.render(Context({"c": content}))
    assert html == "<h1>Welding safety</h1>|Line one<br>Line two|Welding safety|en False"


def test_a_heading_gets_the_lang_attribute_and_its_note_and_a_row_only_the_lang_attribute():
    template = Template('{% load bilingual %}{% bilingual c "name" as shown %}'
                        '<h1{{ shown.lang_attr }}>{{ shown.text }}</h1>{{ shown.note_html }}|'
                        '{% bilingual c "name" "short" %}|{{ shown.also_lang }}:{{ shown.also }}')
    with translation.override("en"):
        html = template.render(Context({"c": {"name_en": "", "name_ja": "溶接の安全"}}))
    assert html == ('<h1 lang="ja">溶接の安全</h1><p class="lang-note muted">No English text was provided; '
                    'shown in Japanese.</p>|<span lang="ja">溶接の安全</span>|ja:')
    with translation.override("en"):
        html = template.render(Context({"c": {"name_en": "Welding safety", "name_ja": "溶接の安全"}}))
    assert html == "<h1>Welding safety</h1>|Welding safety|ja:溶接の安全"


def test_an_organisation_is_named_in_japanese_for_a_japanese_visitor_when_it_gave_the_name():
    template = Template("{% load bilingual %}{{ o|local_name }}")
    with translation.override("ja"):
        assert template.render(Context({"o": {"name": "Minato University", "name_ja": "港大学"}})) == "港大学"
        assert template.render(Context({"o": {"name": "Hokuriku Academy", "name_ja": ""}})) == "Hokuriku Academy"
    with translation.override("en"):
        assert template.render(Context({"o": {"name": "Minato University", "name_ja": "港大学"}})) == \
            "Minato University"


def test_the_template_tag_refuses_an_unknown_display():
    with pytest.raises(TemplateSyntaxError):
        Template('{% load bilingual %}{% bilingual c "name" "fancy" %}').render(Context({"c": {}}))


# --- The catalogue ------------------------------------------------------------------------------
PO_FILE = REPO / "locale" / "ja" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")


def _unquote(text: str) -> str:
    return ast.literal_eval(text)  # a PO string is a double-quoted C string; these escapes are Python's too


def po_entries(path: Path) -> list[dict]:
    """The entries of a PO file: flags, msgctxt, msgid, msgid_plural and msgstr (or msgstr[n])."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()):
        entry: dict = {"flags": set(), "msgstr": {}, "obsolete": False}
        field = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (".*")$', line):
                keyword, index, text = match.groups()
                if keyword.startswith("msgstr"):
                    field = ("msgstr", int(index) if index is not None else 0)
                    entry["msgstr"][field[1]] = _unquote(text)
                else:
                    field = (keyword, None)
                    entry[keyword] = _unquote(text)
            elif line.startswith('"') and field is not None:
                if field[0] == "msgstr":
                    entry["msgstr"][field[1]] += _unquote(line)
                else:
                    entry[field[0]] += _unquote(line)
        entries.append(entry)
    return entries


def test_every_message_of_the_catalogue_is_translated_and_none_is_fuzzy():
    entries = po_entries(PO_FILE)
    header, messages = entries[0], [e for e in entries[1:] if not e["obsolete"]]
    assert header["msgid"] == "" and "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"][0]
    assert "fuzzy" not in header["flags"]
    assert len(messages) > 500
    assert [e["msgid"] for e in messages if "fuzzy" in e["flags"]] == []
    assert [e["msgid"] for e in messages if not all(e["msgstr"].values())] == []
    plural = [e for e in messages if "msgid_plural" in e]
    assert plural and all(set(e["msgstr"]) == {0} for e in plural)  # Japanese has one form


def test_the_compiled_catalogue_matches_the_po_file():
    entries = [e for e in po_entries(PO_FILE)[1:] if not e["obsolete"]]
    with MO_FILE.open("rb") as handle:
        compiled = gettext_module.GNUTranslations(handle)
    for entry in entries:
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            got = compiled.npgettext(context, entry["msgid"], entry["msgid_plural"], 1) if context else \
                compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1)
        else:
            got = compiled.pgettext(context, entry["msgid"]) if context else compiled.gettext(entry["msgid"])
        assert got == entry["msgstr"][0], f"{entry['msgid']!r}: the .mo is older than the .po; run compilemessages"


def test_msgfmt_accepts_the_catalogue_with_its_format_checks():
    msgfmt = shutil.which("msgfmt")
    need(msgfmt is not None, "msgfmt (gettext) is not installed")
    result = subprocess.run([msgfmt, "--check", "--statistics", "-o", "/dev/null", str(PO_FILE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr


def test_terms_are_translated_consistently():
    with translation.override("ja"):
        assert gettext("Endorsed") == "認証済み"
        assert gettext("Registry") == "登録簿"
        assert gettext("Notional learning hours") == "想定学修時間"
        assert gettext("Learning outcomes") == "学修成果"
        assert gettext("Reviewer") == "審査員"
        assert gettext("Manager") == "管理者"
        assert gettext("Suspended") == "一時停止"
        assert gettext("Revoked") == "取消し"
        assert gettext("Expired") == "失効"
        assert gettext("Criteria table") == "認証基準表"


# --- Pages in Japanese --------------------------------------------------------------------------
PUBLIC_PAGES = {
    "home": "このサイトでできること",
    "registry:index": "オープンデータ",
    "login": "会員機関の職員向けです。",
    "apply": "貴機関について",
    "verify": "確認する内容",
}


def _assert_japanese(html: str, expected: str) -> None:
    assert '<html lang="ja">' in html
    assert expected in html
    assert "本文へスキップ" in html and "Skip to main content" not in html


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_a_browser_asking_for_japanese_gets_the_public_pages_in_japanese(client, name):
    response = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5")
    assert response.status_code == 200
    assert response["Content-Language"] == "ja"
    _assert_japanese(response.content.decode(), PUBLIC_PAGES[name])


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_the_language_cookie_gives_japanese_whatever_the_browser_asks(client, name):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    response = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    _assert_japanese(response.content.decode(), PUBLIC_PAGES[name])


def test_without_cookie_or_header_the_pages_are_in_english(client):
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html and "What you can do here" in html


def test_an_english_choice_wins_over_a_japanese_browser(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"}, HTTP_ACCEPT_LANGUAGE="ja")
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="en">' in html and "What you can do here" in html


def test_switching_language_sets_a_lasting_cookie_and_the_next_page_is_japanese(client):
    response = client.post(reverse("set_language"), {"language": "ja", "next": reverse("verify")})
    assert response.status_code == 302 and response["Location"] == reverse("verify")
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ja"
    assert int(cookie["max-age"]) == 365 * 24 * 60 * 60
    assert cookie["samesite"] == "Lax" and cookie["httponly"]
    _assert_japanese(client.get(reverse("verify")).content.decode(), "確認する内容")


def test_a_language_the_site_does_not_offer_is_ignored(client):
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert '<html lang="en">' in client.get(reverse("home")).content.decode()
    _assert_japanese(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="ja").content.decode(), "このサイトでできること")


def test_the_portal_is_in_japanese_for_a_member_who_chose_it_with_programme_names_in_japanese(client):
    cast = Cast()
    welding = ProgrammeFactory(organisation=cast.organisation, name_en="Welding safety", name_ja="")
    ProgrammeFactory(organisation=cast.organisation, name_en="Data literacy", name_ja="データリテラシー")
    client.force_login(cast.editor)
    client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    html = client.get(reverse("portal:dashboard")).content.decode()
    _assert_japanese(html, f"{cast.organisation.name_ja}のポータル")
    assert "新しいプログラムを記述" in html
    assert ">データリテラシー</a>" in html and "Data literacy" not in html
    assert '<span lang="en">Welding safety</span></a>' in html  # a row: marked, the note is on its page
    html = client.get(reverse("portal:programme", args=[welding.public_id])).content.decode()
    assert '<h1 lang="en">Welding safety</h1>' in html
    assert '<p class="lang-note muted">日本語の情報はありません。英語で表示しています。</p>' in html


def test_a_form_error_is_shown_in_japanese(client):
    html = client.post(reverse("apply"), {}, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "この項目は必須です。" in html and "This field is required." not in html


def test_the_admin_works_in_japanese(client):
    application, cast = application_in("in_review")
    client.force_login(cast.manager)
    index = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ja")
    assert index.status_code == 200
    html = index.content.decode()
    assert '<html lang="ja"' in html and "機関と会員資格" in html and "ログアウト" in html
    page = client.get(reverse("admin:endorsement_application_change", args=[application.pk]),
                      HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 200
    assert "監査証跡" in page.content.decode()


def test_the_learners_badge_page_names_the_programme_in_the_visitors_language(client):
    programme, _, _, issuer = awarding_setup(name_en="Welding safety", name_ja="溶接の安全",
                                             description_en="Safe welding.", description_ja="")
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    url = reverse("awards:badge", args=[award.public_id])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    _assert_japanese(html, "<h1>溶接の安全</h1>")
    assert "<title>溶接の安全 · " in html
    assert ('<div lang="en">Safe welding.</div><p class="lang-note muted">'
            "日本語の情報はありません。英語で表示しています。</p>") in html
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Welding safety</h1>" in html and "Safe welding." in html
    # No note on the name or description; the verification report marks the credential's own
    # (Japanese) name as Japanese, which is what the credential states.
    assert '<h1>Welding safety</h1>\n<p class="lang-note' not in html and '<div lang="' not in html


def test_a_registry_programme_page_shows_the_other_language_marked_and_explained(client):
    cast = Cast()
    welding = ProgrammeFactory(organisation=cast.organisation, name_en="Welding safety", name_ja="",
                               description_en="Safe welding\non site.", description_ja="")
    # Everything given in one language only is in Japanese too (else that part would carry the note).
    both = ProgrammeFactory(organisation=cast.organisation, name_en="Data literacy", name_ja="データリテラシー",
                            description_en="Reading data.", description_ja="データを読む。",
                            criteria_narrative="課題3件に合格すること。", learning_outcomes=["表を整形する"],
                            level="レベル5", level_framework="欧州資格枠組み", assessment_method="課題の採点。",
                            evidence_policy="提出物を保存する。", quality_assurance="外部評価。", tags=["データ"],
                            alignments=[{"name": "データ活用", "url": "https://example.org/skills/data"}])
    application_in(ApplicationState.PUBLISHED, cast, programme=welding)
    application_in(ApplicationState.PUBLISHED, cast, programme=both)
    registry_refresh()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    html = client.get(reverse("registry:programme", args=[welding.public_id])).content.decode()
    _assert_japanese(html, '<h1 lang="en">Welding safety</h1>\n<p class="lang-note muted">日本語の情報はありません。')
    assert ('<div lang="en">Safe welding<br>on site.</div><p class="lang-note muted">'
            "日本語の情報はありません。英語で表示しています。</p>") in html
    html = client.get(reverse("registry:programme", args=[both.public_id])).content.decode()
    assert "<h1>データリテラシー</h1>" in html and "<p>データを読む。</p>" in html and "lang-note" not in html
    assert '<span lang="en">Data literacy</span>' in html  # the name in the other language, marked
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("registry:programme", args=[welding.public_id])).content.decode()
    assert "<h1>Welding safety</h1>" in html and "lang-note" not in html
