"""Line-break opportunities between Japanese phrases, so that names and headings never break inside a
word (docs/i18n.md, "No line breaks inside Japanese words").

Japanese has no spaces: a browser may break a line between any two characters, and a narrow table
cell turns 新規申請 into 新規 / 申請. The pages set `word-break: keep-all` on Japanese text (no
break between letters) and this filter inserts `<wbr>` where a break reads naturally, at the phrase
boundaries BudouX (Google's maintained phrase segmenter, a small model shipped in the wheel) finds:

    {% load phrases %}
    <h1>{{ title|phrases }}</h1>     マイクロクレデンシャル・<wbr>プログラム認証基準表

The text is escaped phrase by phrase before the `<wbr>` are put between them, so the result is safe
HTML whatever the input holds. Text without Japanese characters is only escaped; text already marked
safe (HTML someone built) is returned unchanged, since splitting it could cut a tag.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import budoux
from django import template
from django.utils.html import escape
from django.utils.safestring import SafeData, SafeString, mark_safe

register = template.Library()

# Hiragana, katakana (and the prolonged sound mark), CJK ideographs: text with none has no phrases.
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")


@lru_cache(maxsize=1)
def _parser() -> budoux.Parser:
    return budoux.load_default_japanese_parser()


def phrase_split(text: str) -> list[str]:
    """The text cut at BudouX's phrase boundaries (one piece when it holds no Japanese)."""
    if not text or not JAPANESE.search(text):
        return [text] if text else []
    return _parser().parse(text)


def with_break_opportunities(value: Any) -> SafeString:
    """Escaped text with `<wbr>` between its Japanese phrases (see the module docstring)."""
    if value is None:
        return mark_safe("")
    if isinstance(value, SafeData):
        return value
    text = str(value)
    return mark_safe("<wbr>".join(escape(piece) for piece in phrase_split(text)))  # noqa: S308 - each piece escaped


@register.filter(is_safe=True, needs_autoescape=True)
def phrases(value: Any, autoescape: bool = True) -> Any:
    """`{{ text|phrases }}`. Where autoescaping is off the text is left as it is (no HTML is added)."""
    if not autoescape:
        return value
    return with_break_opportunities(value)


@register.filter(name="remark")
def remark(value: Any) -> str:
    """A remark after a label, in the active language's parentheses: 「（必須）」 right after the word in
    Japanese, " (required)" after a space in English. Templates write
    `{% trans "required" as r %}{{ r|remark }}` instead of ASCII parentheses around a translated
    word, which Japanese text must not have."""
    text = str(value)
    if _japanese():
        return f"（{text}）"
    return f" ({text})"


@register.filter(name="remark_in")
def remark_in(value: Any, other: Any = "") -> str:
    """`{{ programme.level_framework|remark_in:other }}`: `remark` for a remark inside content that
    may be written in the other language; `other` is that content's mark (`lang_of`, a row's `lang`),
    "" when it is in the page's language. Text in English on a Japanese page keeps " (…)"."""
    return f" ({value})" if other else remark(value)


def _japanese() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("ja")


@register.simple_tag(name="space")
def space() -> str:
    """`{% space %}` between two sentences, or between a label ending in a colon and what follows:
    a space in English, nothing in Japanese (a sentence ends with 。 and a label with ：, which need
    no space after them)."""
    return "" if _japanese() else " "


@register.simple_tag(name="dash")
def dash() -> str:
    """`{% dash %}` between a link and the words describing it: " — " in English, 「：」 in Japanese."""
    return "：" if _japanese() else " — "


@register.simple_tag(name="period")
def period(start: Any, end: Any) -> str:
    """`{% period start|date:"DATE_FORMAT" end|date:"DATE_FORMAT" %}`: a span of time, 「2026年11月1日〜2026年12月1日」
    in Japanese (the wave dash, no space, as the catalogue's 「%(start)s〜%(end)s」 has it), "1 Nov 2026 –
    1 Dec 2026" with a spaced en dash in English. A simple tag, so the dates are escaped."""
    return f"{start}〜{end}" if _japanese() else f"{start} – {end}"


_MARKDOWN_ITEM = re.compile(r"^[-*+] +", re.MULTILINE)


def japanese_list_marks(text: str) -> str:
    """A Markdown list's "- " items (an Open Badges criteria narrative is Markdown) set with the
    Japanese list mark: 「- 次のすべて」 becomes 「・次のすべて」, whose space would stand before Japanese."""
    return _MARKDOWN_ITEM.sub("・", text)


@register.filter(name="list_marks")
def list_marks(value: Any, other: Any = "") -> str:
    """`{{ narrative|list_marks:other|linebreaksbr }}`: `japanese_list_marks` on a page in Japanese,
    unless `other` marks the text as written in another language (`lang_of`); else the text as it is."""
    text = "" if value is None else str(value)
    return japanese_list_marks(text) if _japanese() and not other else text


_ASCII_PARENTHESES = re.compile(r"\s*\(([^()]*)\)\s*")


def japanese_parentheses(text: str) -> str:
    """A name from another catalogue (Django's language names, django-countries' country names) as
    Japanese sets it when the active language is Japanese: 「ゲール語(スコットランド)」 and
    「中央クルド語 (ソラニー語)」 become 「ゲール語（スコットランド）」 and 「中央クルド語（ソラニー語）」. In
    any other language the text is returned as it is."""
    return _ASCII_PARENTHESES.sub(r"（\1）", text) if _japanese() else text


class _RemarkNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: template.Context) -> SafeString:
        inner = self.nodelist.render(context)  # rendered by the template, so already escaped
        return mark_safe(f"（{inner}）" if _japanese() else f" ({inner})")  # noqa: S308


@register.tag(name="remarked")
def remarked(parser: template.base.Parser, token: template.base.Token) -> _RemarkNode:
    """`{% remarked %}<a href="…">{% trans "about the organisation" %}</a>{% endremarked %}`: the
    `remark` filter for a remark holding markup (a link, a date in a span)."""
    nodelist = parser.parse(("endremarked",))
    parser.delete_first_token()
    return _RemarkNode(nodelist)
