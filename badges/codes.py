"""Codes shown to people as words, in the visitor's language; kept as codes in JSON, the API and
the signed credentials.

One mapping per code list:

- achievement types (`MicroCredential`): `badges.models.AchievementType`'s labels;
- credential patterns (`modular`) and forms of participation (`on_site`): their model choices;
- languages (`ja`, `en`, `zh-Hant`) and countries or regions (`JP`): the Unicode CLDR names from
  Babel (a maintained library; Django ships language names for its own locales only and no
  country names), in the visitor's language.

A code none of them knows is shown as it is. Templates: `{% load codes %}` (registered in settings
TEMPLATES "libraries"), then `{{ programme.achievement_type|achievement_type }}`,
`{{ programme.language|language_name }}`, `{{ organisation.country|country_name }}`,
`{{ programme.participation_form|participation }}`, `{{ programme.credential_pattern|credential_pattern }}`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from django import template
from django.db import models

from badges.models import AchievementType, CredentialPattern, ParticipationForm
from config.i18n import visitor_language

register = template.Library()


def _choice_label(choices: type[models.TextChoices], code: Any) -> str:
    code = "" if code is None else str(code)
    return str(choices(code).label) if code in choices.values else code


@lru_cache(maxsize=4)
def _cldr(language: str) -> Locale:
    return Locale.parse(language)


@register.filter(name="achievement_type")
def achievement_type_label(code: Any) -> str:
    """`MicroCredential` → "Micro-credential" / 「マイクロクレデンシャル」."""
    return _choice_label(AchievementType, code)


@register.filter(name="credential_pattern")
def credential_pattern_label(code: Any) -> str:
    """`modular` → "Modular (stand-alone)"."""
    return _choice_label(CredentialPattern, code)


@register.filter(name="participation")
def participation_label(code: Any) -> str:
    """`on_site` → "On site" / 「対面」."""
    return _choice_label(ParticipationForm, code)


@register.filter(name="language_name")
def language_name(code: Any, language: str | None = None) -> str:
    """A BCP 47 language code in words: `ja` → "Japanese" / 「日本語」, `zh-Hant` → "Traditional
    Chinese" / 「繁体中国語」; the code itself when CLDR does not know it."""
    code = "" if code is None else str(code).strip()
    if not code:
        return ""
    try:
        parsed = Locale.parse(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return code
    names = _cldr(visitor_language(language)).languages
    key = f"{parsed.language}_{parsed.script}" if parsed.script else parsed.language
    name = names.get(key) or names.get(parsed.language)
    if not name:
        return code
    if parsed.territory:
        territory = _cldr(visitor_language(language)).territories.get(parsed.territory, parsed.territory)
        return f"{name}（{territory}）" if visitor_language(language) == "ja" else f"{name} ({territory})"
    return name


@register.filter(name="country_name")
def country_name(code: Any, language: str | None = None) -> str:
    """An ISO 3166 country or region code in words: `JP` → "Japan" / 「日本」; the code itself when
    CLDR does not know it."""
    code = "" if code is None else str(code).strip()
    return _cldr(visitor_language(language)).territories.get(code.upper(), code) if code else ""
