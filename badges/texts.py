"""The verification report's texts, translated once per language.

A report of 15 checks looks up some 45 texts (labels, messages, templates) in the visitor's
language; each `gettext` walks Django's chain of catalogues (one per app with a locale) behind an
`asgiref` local. The texts are constants and their translations are fixed while the process runs
(Django reloads catalogues only when LANGUAGES, LANGUAGE_CODE, LOCALE_PATHS or INSTALLED_APPS
change: then the memo is emptied too). `in_language()` looks the active language up once and,
for the code run inside it, `gettext` answers from a dict for that language, asking Django's
`gettext` the first time a text is met. Outside `in_language()` it is Django's `gettext`.

`makemessages` finds the texts as before: the callers still name it `_`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation

# A language (as translation.get_language() names it) → {message id: its translation}.
_MEMO: dict[str | None, dict[str, str]] = {}
_MEMO_LOCK = threading.Lock()
_CURRENT: ContextVar[dict[str, str] | None] = ContextVar("badges_texts_current", default=None)
RELOADING_SETTINGS = {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}


def gettext(message: str) -> str:
    """Django's `gettext(message)`, remembered for the language of the enclosing `in_language()`."""
    texts = _CURRENT.get()
    if texts is None:
        return translation.gettext(message)
    text = texts.get(message)
    if text is None:
        text = translation.gettext(message)
        if type(text) is str:  # a SafeString (of a SafeString message) is left to Django each time
            texts[message] = text
    return text


@contextmanager
def in_language() -> Iterator[None]:
    """Within, `gettext` answers from the memo of the active language (looked up once, here)."""
    language = translation.get_language()
    texts = _MEMO.get(language)
    if texts is None:
        with _MEMO_LOCK:
            texts = _MEMO.setdefault(language, {})
    token = _CURRENT.set(texts)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def clear() -> None:
    with _MEMO_LOCK:
        _MEMO.clear()


@receiver(setting_changed)
def _settings_changed(*, setting: str, **_kwargs: Any) -> None:
    if setting in RELOADING_SETTINGS:
        clear()
