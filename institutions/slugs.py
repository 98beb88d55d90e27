"""Readable slugs for organisations, also when the name is only in Japanese.

Django's `slugify` drops every character outside ASCII, so `東北工業大学` would become `organisation`
(and the next one `organisation-2`). Japanese is romanised first with pykakasi (Hepburn, passport
style: `tohokukogyoudai-gaku`), which ships its dictionary in the wheel and downloads nothing at run
time (docs/architecture.md says why this library).
"""

from __future__ import annotations

from functools import lru_cache

from django.utils.text import slugify

SLUG_MAX = 70


@lru_cache(maxsize=1)
def _kakasi():
    import pykakasi

    return pykakasi.kakasi()


def romanise(text: str) -> str:
    """Japanese (kanji, kana) in Latin letters; other text unchanged."""
    if text.isascii():
        return text
    return " ".join(part["passport"] for part in _kakasi().convert(text))


def slug_from_name(*names: str) -> str:
    """The slug proposed for an organisation: from the first of `names` that gives one."""
    for name in names:
        slug = slugify(romanise(name or ""))[:SLUG_MAX].strip("-")
        if slug:
            return slug
    return "organisation"
