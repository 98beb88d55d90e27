"""Programme content in the visitor's language.

Organisations describe a programme in English, Japanese or both (`name_en`/`name_ja`,
`description_en`/`description_ja`). A visitor sees the text of the active language when the
organisation gave it; otherwise the other language's text, marked with its `lang` attribute (so a
screen reader switches voice) and followed by a visible note saying why.

In Python: `in_language(programme, "name")` returns a `Localised` (text, its language, whether it is
a fallback). In templates (`{% load bilingual %}`, registered in settings TEMPLATES "libraries"):

    {% bilingual programme "name" %}               inline: the text, or <span lang> + note
    {% bilingual programme "description" "block" %}  block: line breaks kept, note in its own <p>
    {% bilingual programme "name" "short" %}       in a list or table row: <span lang>, no note
    {{ programme|in_language:"name" }}             plain text only (for <title>, alt)
    {{ programme|in_language_html:"name" }}        in a heading's blocktrans: <span lang> on fallback
    {{ organisation|local_name }}                   an organisation's name_ja for a Japanese visitor, else name
    {% bilingual programme "name" as shown %}      the Localised itself: shown.text, shown.lang,
                                                   shown.fallback, shown.note; {{ shown }} is inline;
    <h1{{ shown.lang_attr }}>{{ shown.text }}</h1>{{ shown.note_html }}   a heading and its note;
    shown.also / shown.also_lang                   the other language's text when both were given
    {% written_in programme as written %}{{ written.note_html }}   the fields given in one language
    <dd{{ programme.criteria_narrative|lang_of:programme }}>       only (outcomes, criteria…): the
                                                   section's note and each element's lang, when the text
                                                   (told by its script, `text_language`) is not in the
                                                   visitor's language

`source` may be a model instance or a dict (the registry snapshot, a frozen application snapshot).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy

from config.phrases import space


def space_in(language: str) -> str:
    """`config.phrases.space` in `language` (the visitor's, not necessarily the active one): the space
    before a note after a text, none in Japanese."""
    with translation.override(language):
        return space()


# Shown in the visitor's language, after text that is in the other one.
FALLBACK_NOTES = {
    "ja": gettext_lazy("No Japanese text was provided; shown in English."),
    "en": gettext_lazy("No English text was provided; shown in Japanese."),
}
# After text in a third language (a programme written in French, say).
OTHER_LANGUAGE_NOTES = {
    "ja": gettext_lazy("No Japanese text was provided; shown as the organisation wrote it."),
    "en": gettext_lazy("No English text was provided; shown as the organisation wrote it."),
}

register = template.Library()


def visitor_language(language: str | None = None) -> str:
    """"ja" or "en": the content language matching `language` (default: the active one)."""
    return "ja" if (language or get_language() or "").lower().startswith("ja") else "en"


def other_language(language: str) -> str:
    return "en" if language == "ja" else "ja"


def _value(source: Any, key: str) -> str:
    if source is None:
        return ""
    value = source.get(key) if isinstance(source, dict) else getattr(source, key, None)
    return str(value).strip() if value not in (None, "") else ""


@dataclass(frozen=True)
class Localised:
    """A text chosen for the visitor: `lang` is the language it is written in; `fallback` is true
    when that is not the visitor's language (the organisation gave none in it)."""

    text: str
    lang: str
    visitor: str
    fallback: bool
    also: str = ""  # the same field in the other language, when the organisation gave both

    @property
    def also_lang(self) -> str:
        return other_language(self.visitor)

    @property
    def lang_attr(self) -> SafeString:
        """` lang="en"` for the element holding a fallback text, "" otherwise: `<h1{{ shown.lang_attr }}>`."""
        return format_html(' lang="{}"', self.lang) if self.fallback else SafeString("")

    @property
    def note_html(self) -> SafeString:
        """The note as a paragraph of its own (after a heading), "" when the text is in the visitor's language."""
        return format_html('<p class="lang-note muted">{}</p>', self.note) if self.fallback else SafeString("")

    @property
    def note(self) -> str:
        """The sentence telling the visitor, in their language, why the text is in the other one ("" if it
        is not)."""
        if not self.fallback:
            return ""
        with translation.override(self.visitor):
            return str(FALLBACK_NOTES[self.visitor])

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)

    def __html__(self) -> SafeString:
        return self.inline()

    def inline(self) -> SafeString:
        """For a heading, a table cell or a list item: the text, or `<span lang>` and the note. Between
        them `{% space %}` in the visitor's language: a space in English, none in Japanese, whose note
        is a sentence of its own (docs/i18n.md, "Japanese typography")."""
        if not self.fallback:
            return format_html("{}", self.text)
        return format_html('<span lang="{}">{}</span>{}<small class="lang-note muted">{}</small>',
                           self.lang, self.text, space_in(self.visitor), self.note)

    def short(self) -> SafeString:
        """For a row of a list or table, where a note on every row would drown the content: the text,
        in a `<span lang>` when it is a fallback (the page the row links to carries the note)."""
        if not self.fallback:
            return format_html("{}", self.text)
        return format_html('<span lang="{}">{}</span>', self.lang, self.text)

    def block(self) -> SafeString:
        """For a description inside a `<dd>`, `<section>` or `<div>` (never inside a `<p>`): line
        breaks kept; on fallback the text sits in a `<div lang>` and the note in a `<p>` of its own."""
        if not self.text:
            return SafeString("")
        if not self.fallback:
            return linebreaksbr(self.text, autoescape=True)
        return format_html('<div lang="{}">{}</div><p class="lang-note muted">{}</p>',
                           self.lang, linebreaksbr(self.text, autoescape=True), self.note)


def in_language(source: Any, field: str, language: str | None = None) -> Localised:
    """`source`'s `<field>_<language>` for the visitor's language when filled, else the other
    language's, marked as a fallback. Empty text (not a fallback) when neither is filled."""
    visitor = visitor_language(language)
    own = _value(source, f"{field}_{visitor}")
    other = other_language(visitor)
    if own:
        return Localised(own, visitor, visitor, False, also=_value(source, f"{field}_{other}"))
    text = _value(source, f"{field}_{other}")
    if text:
        return Localised(text, other, visitor, True)
    return Localised("", visitor, visitor, False)


# Kana, kanji and half-width katakana: text with any of them is Japanese (docs/i18n.md).
_JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_LETTER = re.compile(r"[^\W\d_]")
# The fields an organisation writes in one language only (the name and description have both).
WRITTEN_FIELDS = ("criteria_narrative", "learning_outcomes", "level", "level_framework", "assessment_method",
                  "evidence_policy", "alignments", "tags", "quality_assurance", "prerequisites", "stackability")


def _plain(value: Any) -> str:
    """The words of a field: a text, a list of texts (outcomes, tags) or of alignments (their
    name, framework and description; not their URL)."""
    if isinstance(value, dict):
        return " ".join(str(v) for k, v in value.items() if k != "url" and isinstance(v, str))
    if isinstance(value, list | tuple):
        return " ".join(_plain(item) for item in value)
    return "" if value is None else str(value)


def text_language(value: Any, declared: str = "") -> str:
    """The language of a text given in one language only: "ja" when it has kana or kanji, else
    "en" (a programme's `language` is "ja" by default, so it cannot be trusted for Latin text);
    the declared language when it is a third one ("fr"); "" for a text with no letters ("30")."""
    text = _plain(value)
    if not _LETTER.search(text):
        return ""
    primary = (declared or "").split("-")[0].lower()
    if primary and primary not in FALLBACK_NOTES:
        return declared
    return "ja" if _JAPANESE.search(text) else "en"


@dataclass(frozen=True)
class Written:
    """The language the single-language fields of a programme (or of a credential's achievement)
    are written in, for the visitor: `fallback` when it is not the visitor's, and then a note for
    the section and `lang` for its elements."""

    lang: str  # "" when no field has words
    visitor: str

    @property
    def fallback(self) -> bool:
        return bool(self.lang) and self.lang.split("-")[0].lower() != self.visitor

    @property
    def lang_attr(self) -> SafeString:
        """` lang="en"` for an element holding such a field on a page in the other language."""
        return format_html(' lang="{}"', self.lang) if self.fallback else SafeString("")

    @property
    def note(self) -> str:
        if not self.fallback:
            return ""
        notes = FALLBACK_NOTES if self.lang.split("-")[0].lower() in FALLBACK_NOTES else OTHER_LANGUAGE_NOTES
        with translation.override(self.visitor):
            return str(notes[self.visitor])

    @property
    def note_html(self) -> SafeString:
        return format_html('<p class="lang-note muted">{}</p>', self.note) if self.fallback else SafeString("")

    @property
    def note_inline(self) -> SafeString:
        """The note after an inline text (`<small>`), "" when the text is in the visitor's language. A
        space before it in English, none in Japanese, where it follows a sentence's 。 (docs/i18n.md,
        "Japanese typography")."""
        if not self.fallback:
            return SafeString("")
        return format_html('{}<small class="lang-note muted">{}</small>', space_in(self.visitor), self.note)


def written_in(source: Any, language: str | None = None, fields: tuple[str, ...] = WRITTEN_FIELDS) -> Written:
    """The language of `source`'s single-language `fields` (`text_language` of each, the most
    common wins; the visitor's on a tie), for the visitor of `language` (default: the active one)."""
    visitor = visitor_language(language)
    declared = _value(source, "language")
    found = [lang for name in fields
             if (lang := text_language(_field(source, name), declared))]
    if not found:
        return Written("", visitor)
    lang = max(dict.fromkeys(found), key=lambda code: (found.count(code), code == visitor))
    return Written(lang, visitor)


def _field(source: Any, key: str) -> Any:
    if source is None:
        return None
    return source.get(key) if isinstance(source, dict) else getattr(source, key, None)


@register.simple_tag(name="written_in")
def written_in_tag(source: Any) -> Written:
    """`{% written_in programme as written %}` then `{{ written.note_html }}` for the section."""
    return written_in(source)


@register.filter(name="lang_of")
def lang_of(value: Any, source: Any = None) -> SafeString:
    """`<dd{{ programme.criteria_narrative|lang_of:programme }}>`: ` lang="en"` when that text is in
    the language other than the visitor's (`text_language`; `source`'s `language`, or a code, is
    the declared one), else ""."""
    declared = source if isinstance(source, str) else _value(source, "language")
    lang = text_language(value, declared)
    if not lang or lang.split("-")[0].lower() == visitor_language():
        return SafeString("")
    return format_html(' lang="{}"', lang)


@register.simple_tag(name="bilingual")
def bilingual_tag(source: Any, field: str, display: str = "inline") -> Localised | SafeString | str:
    """`{% bilingual source "field" %}` (inline), `... "block" %}`, `... "short" %}` or `... "text" %}`;
    with `as name` (inline) the Localised is stored for the template to use."""
    shown = in_language(source, field)
    if display == "block":
        return shown.block()
    if display == "short":
        return shown.short()
    if display == "text":
        return shown.text
    if display != "inline":
        raise template.TemplateSyntaxError(
            f'bilingual: display must be "inline", "block", "short" or "text", not {display!r}'
        )
    return shown


@register.filter(name="in_language")
def in_language_filter(source: Any, field: str) -> str:
    """`{{ programme|in_language:"name" }}`: the plain text only (no note), for titles and attributes."""
    return in_language(source, field).text


@register.filter(name="in_language_html")
def in_language_html_filter(source: Any, field: str) -> SafeString:
    """`{% blocktrans with name=programme|in_language_html:"name" %}` in a heading or a link: the
    text, in a `<span lang>` when it is in the other language (never in an attribute or <title>)."""
    return in_language(source, field).short()


def local_name(source: Any, language: str | None = None) -> str:
    """An organisation's name for the visitor: `name_ja` for a Japanese visitor when given, else
    `name` (the name it registered, in whatever script; a proper name, so no note)."""
    if visitor_language(language) == "ja":
        return _value(source, "name_ja") or _value(source, "name")
    return _value(source, "name") or _value(source, "name_ja")


@register.filter(name="local_name")
def local_name_filter(source: Any) -> str:
    """`{{ organisation|local_name }}`."""
    return local_name(source)
