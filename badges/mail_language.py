"""The language of the mails to a learner (docs/learners.md, "Mails in the learner's language"): the
learner's own choice for the address (RecipientLanguage, set on their account page), else the language
the issuer gave with the badge (a batch's `language` column, the award API's `recipient_language`),
else the site's (LANGUAGE_CODE). Only the rendering depends on it: each mail is built under
`translation.override` of that language."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from badges.models import RecipientLanguage

# What a spreadsheet may write in the language column, compared NFKC-folded and case-folded.
LANGUAGE_NAMES = {
    "en": ("en", "en-us", "en-gb", "english", "英語", "えいご"),
    "ja": ("ja", "ja-jp", "jp", "japanese", "日本語", "にほんご"),
}
_CODE_OF = {name: code for code, names in LANGUAGE_NAMES.items() for name in names}


def site_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def language_clean(value: Any) -> str:
    """A language as stored: "" (none given) or one of LANGUAGES' codes; ValueError with the message
    otherwise. Accepts the codes and the languages' names in English and Japanese."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(_("Give this as text."))
    key = "".join(unicodedata.normalize("NFKC", value).split()).casefold().replace("_", "-")
    if not key:
        return ""
    code = _CODE_OF.get(key)
    if code is None or code not in site_languages():
        raise ValueError(_("Unknown language: give %(codes)s (or leave it empty for the site's language).")
                         % {"codes": " / ".join(site_languages())})
    return code


def _fold(email: str) -> str:
    return (email or "").strip().lower()


def chosen_languages(emails: Iterable[str]) -> dict[str, str]:
    """The languages learners chose for these addresses (case-folded address → code), one query."""
    folded = {_fold(e) for e in emails if e}
    if not folded:
        return {}
    return dict(RecipientLanguage.objects.filter(email__in=folded).values_list("email", "language"))


def mail_language(email: str, given: str = "", chosen: dict[str, str] | None = None) -> str:
    """The language of a mail to `email`: the learner's choice, else `given` (the issuer's), else the
    site's. `chosen` is `chosen_languages` of a whole batch, to spare a query per mail."""
    found = (chosen if chosen is not None else chosen_languages([email])).get(_fold(email))
    for code in (found, given):
        if code and code in site_languages():
            return code
    return settings.LANGUAGE_CODE


def language_choose(emails: Iterable[str], language: Any) -> str:
    """Record the learner's choice for each of their addresses ("" forgets it: the issuer's or the
    site's language again). ValueError for an unknown language; nothing is changed then."""
    code = language_clean(language)
    folded = sorted({_fold(e) for e in emails if e})
    with transaction.atomic():
        if not code:
            RecipientLanguage.objects.filter(email__in=folded).delete()
            return ""
        for email in folded:
            RecipientLanguage.objects.update_or_create(email=email, defaults={"language": code})
    return code


def languages_forget(emails: Iterable[str]) -> None:
    """The learner's choices for these addresses deleted (their account is deleted)."""
    RecipientLanguage.objects.filter(email__in={_fold(e) for e in emails if e}).delete()
