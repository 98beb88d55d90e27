"""Japanese as Japanese readers expect it: the catalogue's typography, dates and times, and line breaks
only between phrases (docs/i18n.md, "Japanese typography")."""

from __future__ import annotations

import datetime
import re

import pytest
from django.template import Context, Template
from django.utils import formats, translation
from django.utils.safestring import mark_safe

from tests.test_i18n import PO_FILE, po_entries

# Kana (with the prolonged sound mark), CJK ideographs, and the full-width punctuation and forms
# that only occur in Japanese text here (、。「」（）：… U+3000–U+303F, U+FF01–U+FF5E).
KANA_KANJI = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
FULL_WIDTH = "\u3000-\u303f\uff01-\uff5e"
JAPANESE = f"[{KANA_KANJI}{FULL_WIDTH}]"

# Rule 1: no ASCII space between a word or a placeholder and a particle (「%(name)s を」→「%(name)sを」).
PARTICLE_AFTER_SPACE = re.compile(r"\S +(?:を|が|は|に|の|で|と|へ|も|から|まで|より)")
# Rule 2: no ASCII space touching Japanese text at all (「PNG または SVG」→「PNGまたはSVG」,
# 「10 件」→「10件」): Japanese sets Latin words and numbers in the line without spaces.
SPACE_BY_JAPANESE = re.compile(f"{JAPANESE} +| +{JAPANESE}")
# Rule 3: no half-width , . ( ) : beside kana or kanji: a Japanese sentence uses 、。（）：.
# (Beside full-width brackets they are allowed: 「did:」 quotes a literal.)
HALF_WIDTH_PUNCTUATION = re.compile(f"[{KANA_KANJI}][,.():]|[,.():][{KANA_KANJI}]")

# The only exception: " | " separates the parts of a line the user types (名称 | URL | 枠組み); the
# spaces are part of the format being described, so " | " is removed before the checks.
ALLOWED = re.compile(r" \| ")


def japanese_messages() -> list[tuple[str, str]]:
    """(msgid, msgstr) of every translated message of the catalogue."""
    pairs = []
    for entry in po_entries(PO_FILE)[1:]:
        if entry["obsolete"]:
            continue
        pairs += [(entry["msgid"], text) for text in entry["msgstr"].values() if text]
    return pairs


def offending(pattern: re.Pattern[str]) -> list[str]:
    return [text for _msgid, text in japanese_messages() if pattern.search(ALLOWED.sub("|", text))]


def test_the_rules_catch_what_they_are_written_for():
    assert PARTICLE_AFTER_SPACE.search("%(name)s を確認")
    assert PARTICLE_AFTER_SPACE.search("5 MB まで")
    assert not PARTICLE_AFTER_SPACE.search("%(name)sを確認")
    assert SPACE_BY_JAPANESE.search("PNG または SVG")
    assert SPACE_BY_JAPANESE.search("10 件")
    assert not SPACE_BY_JAPANESE.search("PNGまたはSVG（5 MBまで）")
    assert HALF_WIDTH_PUNCTUATION.search("名称(英語)")
    assert HALF_WIDTH_PUNCTUATION.search("確認します.")
    assert HALF_WIDTH_PUNCTUATION.search("注意:必須")
    assert not HALF_WIDTH_PUNCTUATION.search("名称（英語）。「did:」で始まる")
    assert not SPACE_BY_JAPANESE.search(ALLOWED.sub("|", "名称 | URL | 枠組み"))


def test_the_catalogue_is_large_enough_for_the_rules_to_mean_something():
    assert len(japanese_messages()) > 500


def test_no_space_between_a_word_and_its_particle():
    assert offending(PARTICLE_AFTER_SPACE) == []


def test_no_ascii_space_beside_japanese_text():
    assert offending(SPACE_BY_JAPANESE) == []


def test_no_half_width_punctuation_inside_japanese_sentences():
    assert offending(HALF_WIDTH_PUNCTUATION) == []


# --- Dates and times ----------------------------------------------------------------------------
MOMENT = datetime.datetime(2026, 12, 1, 5, 52, tzinfo=datetime.UTC)


@pytest.mark.parametrize(("name", "expected"), [
    ("DATETIME_FORMAT", "2026年12月1日 5:52"),
    ("DATE_FORMAT", "2026年12月1日"),
    ("TIME_FORMAT", "5:52"),
    ("SHORT_DATE_FORMAT", "2026/12/01"),
    ("SHORT_DATETIME_FORMAT", "2026/12/01 5:52"),
    ("YEAR_MONTH_FORMAT", "2026年12月"),
    ("MONTH_DAY_FORMAT", "12月1日"),
])
def test_dates_and_times_in_japanese(name, expected):
    with translation.override("ja"):
        assert formats.date_format(MOMENT, name) == expected


def test_a_template_shows_a_moment_in_japanese_and_english():
    template = Template("{{ at }}|{{ at|date }}")
    with translation.override("ja"):
        assert template.render(Context({"at": MOMENT})) == "2026年12月1日 5:52|2026年12月1日"
    with translation.override("en"):
        assert template.render(Context({"at": MOMENT})) == "Dec. 1, 2026, 5:52 a.m.|Dec. 1, 2026"


def test_a_japanese_form_accepts_the_dates_japanese_people_type():
    from django import forms

    class DateForm(forms.Form):
        day = forms.DateField()

    with translation.override("ja"):
        for typed in ("2026-12-01", "2026/12/01", "2026年12月1日"):
            form = DateForm({"day": typed})
            assert form.is_valid(), (typed, form.errors)
            assert form.cleaned_data["day"] == datetime.date(2026, 12, 1)


# --- Line breaks between phrases (BudouX) -------------------------------------------------------
def render(source: str, **context) -> str:
    return Template("{% load phrases %}" + source).render(Context(context))


def test_break_opportunities_are_put_between_japanese_phrases_only():
    html = render("{{ t|phrases }}", t="マイクロクレデンシャル・プログラム認証基準表を確認してください")
    assert html == "マイクロクレデンシャル・<wbr>プログラム認証基準表を<wbr>確認してください"
    # No break inside a word: each piece between <wbr> is a whole phrase.
    assert "認証<wbr>" not in html and "<wbr>基準" not in html


def test_text_without_japanese_is_left_as_it_is():
    assert render("{{ t|phrases }}", t="Data Literacy for Business") == "Data Literacy for Business"
    assert render("{{ t|phrases }}", t="") == ""
    assert render("{{ t|phrases }}", t=None) == ""


def test_the_text_is_escaped_before_the_breaks_are_added():
    html = render("{{ t|phrases }}", t="<script>alert(1)</script>学修成果を確認してください")
    assert "<script>" not in html
    assert "<wbr>" in html
    assert html.replace("<wbr>", "") == "&lt;script&gt;alert(1)&lt;/script&gt;学修成果を確認してください"
    # HTML someone already marked safe is not cut (it could split a tag).
    safe = mark_safe('<a href="/x">学修成果を確認してください</a>')
    assert render("{{ t|phrases }}", t=safe) == str(safe)


def test_with_autoescape_off_no_html_is_added():
    html = render("{% autoescape off %}{{ t|phrases }}{% endautoescape %}", t="学修成果を確認してください")
    assert html == "学修成果を確認してください"
