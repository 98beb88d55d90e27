"""The public registry's pages and open data, served from the stored entries (RegistryEntry).

A request reads the newest version's head (`registry_current()`: one small query) and queries what
it shows: the index a count and one page of 25 rows, filtered on indexed columns and the search
index (RegistryToken) and ordered by an indexed sort key; a programme page one row. The filter
choices (a few aggregate queries) and rendered page bodies are kept per version and process
(`Registry.derived`); nothing proportional to the registry's size is held.

Open data (`/registry.json`, `/registry.csv`, `/registry/feed.atom`, `/sitemap.xml`) is written
once per version to a file (REGISTRY_CACHE_DIR), plain and gzip-compressed, and streamed from it;
it carries the version's digest as ETag and its time as Last-Modified, and answers 304 to a
matching If-None-Match or an If-Modified-Since not older than the version.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import functools
import gzip
import io
import json
import math
import os
import tempfile
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, F, FloatField, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import date, floatformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.feedgenerator import Atom1Feed
from django.utils.formats import number_format
from django.utils.html import conditional_escape
from django.utils.html import escape as escape_html
from django.utils.http import http_date
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from badges.codes import achievement_type_label
from badges.models import CredentialPattern, ParticipationForm
from config.i18n import lang_of
from endorsement.figures import figures_context, figures_csv_response, registry_figures
from endorsement.marks import mark_snippet
from endorsement.models import EndorsementState, RegistryEntry, RegistryToken, with_programmes
from endorsement.registry import (
    ITEM_COLUMNS,
    NEWEST,
    TAG_PREFIX,
    TOKEN_LENGTH,
    Item,
    Registry,
    fold,
    item_of,
    registry_current,
    word_terms,
)
from institutions.models import MembershipState, OrganisationKind

PAGE_SIZE = 25
# Open-data bodies up to this size are sent from memory, larger ones streamed from their file.
INLINE_BYTES = 256 * 1024
_ZERO = uuid.UUID(int=0)
# Rendered page bodies kept per snapshot and process: how long, and how many.
FRAGMENT_SECONDS = 60
FRAGMENT_CACHE_SIZE = 512
_fragments_lock = threading.Lock()
FEED_SIZE = 50
SORTS = {
    "newest": gettext_lazy("Newest endorsed first"),
    "name": gettext_lazy("Name (A–Z)"),
    "hours": gettext_lazy("Most learning hours first"),
    "valid_until": gettext_lazy("Endorsement ending soonest first"),
}
# Standing is shown by a word and a symbol, not only by colour.
STANDING_SYMBOLS = {"active": "✓", "suspended": "‖", "revoked": "✕", "expired": "○", "superseded": "→",
                    "scheduled": "…"}
STANDING_NOTES = {
    "superseded": gettext_lazy("Superseded: renewed or revised; badges issued while it was in force remain "
                               "endorsed when issued."),
    "scheduled": gettext_lazy("Granted: it starts when the endorsement before it ends."),
    "suspended": gettext_lazy("Suspended: badges issued under it are not endorsed while the suspension lasts."),
    "revoked": gettext_lazy("Revoked: the body withdrew this endorsement."),
    "expired": gettext_lazy("Expired: the endorsement's period has ended."),
}


def _japanese() -> bool:
    return (get_language() or "").startswith("ja")


def _label(choices: Any, value: str) -> str:
    return _label_in(choices, value, get_language())


@functools.lru_cache(maxsize=512)
def _label_in(choices: Any, value: str, language: str | None) -> str:
    """A choice's label in a language, worked out once per process: `choices.values` builds its
    list anew at every call (two per result row, a tenth of a searched page's CPU)."""
    return str(choices(value).label) if value in choices.values else value


def _in_language(data: dict[str, Any], name: str) -> tuple[str, bool]:
    """(text, shown in the other language): `name_ja` for a Japanese visitor when filled, else
    `name_en` (or the reverse)."""
    first, second = ("ja", "en") if _japanese() else ("en", "ja")
    if data.get(f"{name}_{first}"):
        return data[f"{name}_{first}"], False
    return data.get(f"{name}_{second}") or "", bool(data.get(f"{name}_{second}"))


def _organisation_name(organisation: dict[str, Any]) -> str:
    return (organisation.get("name_ja") if _japanese() else "") or organisation.get("name") or ""


def _standing(state: str) -> dict[str, Any]:
    return {"state": state, "label": _label(EndorsementState, state), "symbol": STANDING_SYMBOLS.get(state, ""),
            "note": STANDING_NOTES.get(state, ""), "in_force": state == EndorsementState.ACTIVE}


def _display(item: Item, now: datetime) -> dict[str, Any]:
    """What the templates show of an entry, in the visitor's language with a fallback."""
    entry = item.entry
    programme = entry["programme"]
    name, name_fallback = _in_language(programme, "name")
    description, description_fallback = _in_language(programme, "description")
    return {
        "entry": entry,
        "id": item.id,
        "path": entry["url"].removeprefix(settings.SITE_URL),
        "organisation_path": entry["organisation"]["url"].removeprefix(settings.SITE_URL),
        "name": name,
        "name_fallback": name_fallback,
        # The language of a name shown in the other language, for its lang attribute.
        "name_lang": ("en" if _japanese() else "ja") if name_fallback else "",
        "description": description,
        "description_fallback": description_fallback,
        "organisation_name": _organisation_name(entry["organisation"]),
        "pattern": _label(CredentialPattern, programme.get("credential_pattern", "")),
        "participation": _label(ParticipationForm, programme.get("participation_form", "")),
        "standing": _standing(item.standing(now)),
        "endorsed_on": item.valid_from,
        "valid_until": item.valid_until,
    }


# --- Search, filters, sorting ---------------------------------------------------------------------
def _facets(registry: Registry) -> dict[str, Any]:
    """The filter choices present in the registry, per visitor language: a few aggregate queries
    once per snapshot and process (the results are small)."""
    def make() -> dict[str, Any]:
        entries = RegistryEntry.objects.order_by()
        profiles = registry.organisations_by_slug
        slugs = entries.values_list("organisation_slug", flat=True).distinct()
        organisations = {slug: _organisation_name(profiles.get(slug) or {"name": slug}) for slug in slugs}
        levels = set(entries.exclude(level="").values_list("level", flat=True).distinct())
        types = set(entries.exclude(achievement_type="").values_list("achievement_type", flat=True).distinct())
        tags = (RegistryToken.objects.filter(_starting(TAG_PREFIX))
                .values("token").annotate(n=Count("token")).order_by("-n", "token")[:50])  # from the index alone
        return {
            "organisation": sorted(organisations.items(), key=lambda pair: (fold(pair[1]), pair[0])),
            "level": [(level, level) for level in sorted(levels, key=fold)],
            "type": sorted(((t, achievement_type_label(t)) for t in types), key=lambda pair: fold(pair[1])),
            "tags": [row["token"][len(TAG_PREFIX):] for row in tags],
        }

    return registry.derived(("facets", get_language()), make)


FIXED_CHOICES = {
    "pattern": lambda: list(CredentialPattern.choices),
    "standing": lambda: list(EndorsementState.choices),
    "sort": lambda: list(SORTS.items()),
}


def registry_criteria(query: Any, registry: Registry | None) -> tuple[dict[str, str], list[str]]:
    """The valid search words, filters and sort of a query string, and a message for each value that
    is not a choice (dropped rather than failing the page)."""
    facets = _facets(registry) if registry is not None else {"organisation": [], "level": [], "type": []}
    criteria: dict[str, str] = {}
    problems: list[str] = []
    q = (query.get("q") or "").strip()[:200]
    if q:
        criteria["q"] = q
    tag = (query.get("tag") or "").strip()[:100]
    if tag:
        criteria["tag"] = tag
    for name in ("organisation", "level", "type", "pattern", "standing", "sort"):
        value = query.get(name) or ""
        if not value:
            continue
        choices = facets[name] if name in facets else FIXED_CHOICES[name]()
        if value in {str(v) for v, _label_ in choices}:
            criteria[name] = value
        else:
            problems.append(_("Select a valid choice. %(value)s is not one of the available choices.")
                            % {"value": value[:100]})
    return criteria, problems


def _language() -> str:
    return "ja" if _japanese() else "en"


# A search's count is exact up to this many matches; past it the page says "more than 1,000"
# (counting every match of a common word would cost what the registry's size costs).
COUNT_LIMIT = 1000
# Enough to tell a rare search term from a common one: the rarest is matched first.
TERM_COUNT_LIMIT = 5000
# Learning hours sort with no hours last (most hours first): as the lowest value.
_NO_HOURS = -1.0e300


def _sort_keys(sort: str, language: str) -> list[tuple[str, bool]]:
    """The keys of a sort as (column, descending): its key, then the registry's own order (newest
    endorsed first, then the programme: unique, so the order is total and a page ends at a row)."""
    newest = [("valid_from", True), ("programme_id", False)]
    if sort == "name":
        return [("name_ja_key" if language == "ja" else "name_en_key", False), *newest]
    if sort == "hours":
        return [("hours_key", True), *newest]
    if sort == "valid_until":
        return [("valid_until", False), *newest]
    return newest


def _ordered(entries: Any, keys: list[tuple[str, bool]], backwards: bool = False) -> Any:
    if any(name == "hours_key" for name, _desc in keys):
        entries = entries.annotate(hours_key=Coalesce("hours", Value(_NO_HOURS), output_field=FloatField()))
    return entries.order_by(*[F(name).desc() if desc != backwards else F(name).asc() for name, desc in keys])


def _standing_filter(standing: str, now: datetime) -> Q:
    """Entries (or their tokens, which carry the same columns) whose standing at `now` is
    `standing` (Item.standing, in SQL)."""
    renewed = Q(renewal_from__isnull=False, renewal_from__lte=now)
    if standing == EndorsementState.ACTIVE:
        return Q(state=standing) & (Q(valid_until__gt=now) | renewed)
    if standing == EndorsementState.EXPIRED:
        return Q(state=standing) | (Q(state=EndorsementState.ACTIVE, valid_until__lte=now) & ~renewed)
    return Q(state=standing)


def _starting(prefix: str) -> Q:
    """Tokens starting with `prefix`, as the index can answer it: on SQLite (binary order) a range;
    on PostgreSQL `LIKE 'prefix%'` over the `varchar_pattern_ops` index (migration 0013), since a
    range under a linguistic collation orders "café" after "cafêx" and would miss rows."""
    if connection.vendor == "postgresql":
        return Q(token__startswith=prefix)
    return Q(token__gte=prefix, token__lt=prefix[:-1] + chr(min(ord(prefix[-1]) + 1, 0x10FFFF)))


def _rarest_first(terms: list[Q]) -> list[Q]:
    """The index terms of a search, the one with the fewest tokens first, the others in their order
    (each counted on the index up to the fewest found so far, at most TERM_COUNT_LIMIT: one small
    query per term, none for a single term; a term as common as the rarest so far stops there, so
    the six bigrams of a common Japanese word cost one count of TERM_COUNT_LIMIT, not six)."""
    if len(terms) < 2:
        return terms
    rarest, fewest = 0, TERM_COUNT_LIMIT + 1
    for n, term in enumerate(terms):
        size = RegistryToken.objects.filter(term).order_by()[:fewest - 1].count()
        if size < fewest - 1 or n == 0:
            rarest, fewest = n, size + 1
        if fewest == 1:  # a term with no token: nothing matches; no need to count the others
            break
    return [terms[rarest], *terms[:rarest], *terms[rarest + 1:]]


FILTER_COLUMNS = {"organisation": "organisation_slug", "level": "level", "type": "achievement_type",
                  "pattern": "credential_pattern"}


def _matching(criteria: dict[str, str], now: datetime) -> Any:
    """The entries (unordered, a query not run yet) matching every word of `q` and every filter.
    With words or a tag, the match starts from the token rows of the rarest term, filtered on the
    columns they carry (no join), and keeps those of whose entries every other term has a token
    (checked on the entry's own tokens); a word that is not exactly its one index term is then
    checked against the search text (see endorsement.registry.word_terms). Without any, the entry
    columns are filtered (indexed)."""
    terms: list[Q] = []
    checks = Q()
    if criteria.get("tag"):
        tag = fold(criteria["tag"])
        terms.append(Q(token=TAG_PREFIX + tag[:TOKEN_LENGTH - 1]))
        checks &= Q(tags__contains=f"\n{tag}\n")
    for word in fold(criteria.get("q", "")).split():
        found = word_terms(word)
        terms += [_starting(token) if prefix else Q(token=token) for token, prefix in found]
        # A word that is its one term (one Latin word of up to TOKEN_LENGTH letters, or one Japanese
        # bigram) needs no check: a token is a part of the search text, so the token found already
        # says the text holds it; the check would only read every candidate row.
        if not (len(found) == 1 and found[0][0] == word):
            checks &= Q(search_text__contains=word)
    filters = Q(**{column: criteria[name] for name, column in FILTER_COLUMNS.items() if criteria.get(name)})
    if criteria.get("standing"):
        filters &= _standing_filter(criteria["standing"], now)
    if not terms:
        return RegistryEntry.objects.filter(filters, checks)
    first, *others = _rarest_first(terms)
    rows = RegistryToken.objects.filter(first, filters)
    for term in others:
        rows = rows.filter(Exists(RegistryToken.objects.filter(term, entry_id=OuterRef("entry_id"))))
    return RegistryEntry.objects.filter(checks, pk__in=rows.values("entry_id"))


def registry_search(registry: Registry, criteria: dict[str, str], now: datetime) -> Any:
    """The entries (a query of RegistryEntry, not run yet) matching every word of `q` (any language,
    any case, full- or half-width; see endorsement.registry.word_terms) and every filter, in the
    order asked for."""
    return _ordered(_matching(criteria, now), _sort_keys(criteria.get("sort", "newest"), _language()))


def _select(name: str, label: Any, choices: list[tuple[Any, Any]], selected: str | None, *,
            any_label: Any = "", registry: Registry | None = None) -> str:
    """A labelled <select>, built in Python: the organisation list can hold hundreds of options,
    which the template engine renders ten times slower. Choices from the snapshot are escaped once
    per snapshot, language and process."""
    def escaped() -> list[tuple[str, str]]:
        return [(str(value), f'<option value="{escape_html(value)}"{{}}>{escape_html(text)}</option>')
                for value, text in choices]

    options = registry.derived(("options", name, _language()), escaped) if registry is not None else escaped()
    parts = [f'<option value="">{escape_html(any_label)}</option>'] if any_label else []
    parts += [html.replace("{}", " selected" if value == selected else "", 1) for value, html in options]
    return (f'<div class="field"><label for="filter-{name}">{escape_html(label)}</label>'
            f'<select id="filter-{name}" name="{name}">{"".join(parts)}</select></div>')


def _page_number(value: str | None, pages: int) -> int:
    try:
        number = int(value or 1)
    except ValueError:
        number = 1
    return min(max(number, 1), pages)


def _fragment(registry: Registry | None, key: tuple[Any, ...], make: Callable[[], str]) -> str:
    """The rendered main part of a page, kept per snapshot and process for FRAGMENT_SECONDS (an
    endorsement reaching its end shows as expired within that time) in a bounded LRU. Only the
    part every visitor sees alike: the header (login, CSRF token) is rendered per request."""
    if registry is None:
        return make()
    fragments = registry.derived("fragments", OrderedDict)
    now = time.monotonic()
    with _fragments_lock:
        held = fragments.get(key)
        if held is not None and now - held[1] < FRAGMENT_SECONDS:
            fragments.move_to_end(key)
            return held[0]
    html = make()
    with _fragments_lock:
        fragments[key] = (html, now)
        fragments.move_to_end(key)
        while len(fragments) > FRAGMENT_CACHE_SIZE:
            fragments.popitem(last=False)
    return html


@require_safe
def registry_index(request: HttpRequest) -> HttpResponse:
    registry = registry_current()
    criteria, problems = registry_criteria(request.GET, registry)
    position = tuple(request.GET.get(name, "")[:1000] for name in ("page", "after", "before"))
    key = ("index", _language(), tuple(sorted(criteria.items())), position)
    if problems:  # not worth keeping: render it for this request only
        body = _index_body(registry, criteria, problems, request.GET)
    else:
        body = _fragment(registry, key, lambda: _index_body(registry, criteria, problems, request.GET))
    return render(request, "registry/index.html", {"registry": registry, "body": mark_safe(body)})  # noqa: S308


def _row_labels() -> dict[str, Any]:
    """The labels every row of the results table repeats, translated once per page: a `{% trans %}`
    in the loop cost 200 translations a page (a quarter of rendering the rows)."""
    return {"crossed": _("Badge image, crossed out: not in force"), "image": _("Badge image"),
            "organisation": _("Organisation"), "level": _("Level"), "hours": _("Hours"),
            "endorsed_on": _("Endorsed on"), "valid_until": _("Valid until"), "standing": _("Standing"),
            "not_in_force": _("Not in force")}


def _result_rows(results: list[dict[str, Any]], labels: dict[str, Any]) -> SafeString:
    """The rows of the results table, built in Python like _select: the template engine spent about
    0.4 ms a row resolving some thirty variables and filters (most of a distinct search's CPU). The
    HTML is the template's, byte for byte (the template it replaced is kept in the test that compares
    them); every value is escaped as the template escapes it."""
    e = conditional_escape
    use_tz = settings.USE_TZ
    label = {key: e(text) for key, text in labels.items()}
    kinds: dict[str, str] = {}  # the few achievement types and days of a page, each worked out once
    days: dict[Any, str] = {}

    def day(moment: Any) -> str:  # DATE_FORMAT shows the day only (the template's `date:"DATE_FORMAT"`)
        local = template_localtime(moment, use_tz)
        key = local.date() if isinstance(local, datetime) else local
        if key not in days:
            days[key] = e(date(local, "DATE_FORMAT"))
        return days[key]

    parts = []
    for item in results:
        programme, state = item["entry"]["programme"], item["standing"]
        in_force, code = state["in_force"], e(state["state"])
        kind, framework = programme.get("achievement_type"), programme.get("level_framework")
        lang = f' lang="{e(item["name_lang"])}"' if item["name_lang"] else ""
        if kind and kind not in kinds:
            kinds[kind] = f" · {e(achievement_type_label(kind))}"
        kind_text = kinds[kind] if kind else ""
        framework_text = f'<br><span class="muted">{e(framework)}</span>' if framework else ""
        hours_text = e(floatformat(programme.get("learning_hours", ""), "-2") or "—")
        endorsed, until = day(item["endorsed_on"]), day(item["valid_until"])
        note = "" if in_force else f'<br><span class="standing-note">{label["not_in_force"]}</span>'
        parts.append(
            f'\n    <tr class="standing-{code}">\n'
            f'      <td class="registry-image{"" if in_force else " marked"}"><img src="{e(item["image_path"])}" '
            f'alt="{label["image"] if in_force else label["crossed"]}" width="48" height="48"></td>\n'
            f'      <th scope="row"><a href="{e(item["path"])}"{lang}>{e(item["name"])}</a>'
            f'<br><span class="muted">{e(item["pattern"])}{kind_text}</span></th>\n'
            f'      <td data-label="{label["organisation"]}"><a href="{e(item["organisation_path"])}">'
            f'{e(item["organisation_name"])}</a></td>\n'
            f'      <td data-label="{label["level"]}"{lang_of(programme.get("level", ""), programme)}>'
            f'{e(programme.get("level") or "—")}{framework_text}</td>\n'
            f'      <td data-label="{label["hours"]}">{hours_text}</td>\n'
            f'      <td data-label="{label["endorsed_on"]}">{endorsed}</td>\n'
            f'      <td data-label="{label["valid_until"]}" class="registry-valid">{until}</td>\n'
            f'      <td data-label="{label["standing"]}" class="registry-standing"><span class="badge-state '
            f'state-{code}"><span aria-hidden="true">{e(state["symbol"])}</span> {e(state["label"])}</span>'
            f'{note}</td>\n'
            f'    </tr>\n  ')
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)


# --- Pages of results: keyset pagination ----------------------------------------------------------
# A page link carries the sort key of the row it continues from (`after`: the last row shown, or
# `before`: the first), never an OFFSET: the database starts at that key on its order, so page 400
# costs what page 1 costs. The link also carries the number of the page it leads to (shown only).
# An old `?page=N` link still works (an OFFSET, as before) and its page links are cursors.
_TEXT_KEYS = {"name_en_key", "name_ja_key"}
_MOMENT_KEYS = {"valid_from", "valid_until"}
_BIGINT = 2 ** 63


def _cursor(number: int, values: tuple[Any, ...]) -> str:
    """A page link's position: the page number and the sort key of a row, as URL-safe text."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps([number, plain], separators=(",", ":")).encode()).decode().rstrip("=")


def _key_value(name: str, value: Any) -> Any:
    """A sort key value read from a cursor, checked for its column (ValueError when it is not one)."""
    if name in _TEXT_KEYS and isinstance(value, str) and len(value) <= 255 and "\x00" not in value:
        return value
    if name in _MOMENT_KEYS and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("a time without its zone")
        return moment
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if name == "hours_key" and number and math.isfinite(value):
        return float(value)
    if name == "programme_id" and number and isinstance(value, int) and -_BIGINT <= value < _BIGINT:
        return value
    raise ValueError(f"not a value of {name}")


def _read_cursor(text: str, keys: list[tuple[str, bool]]) -> tuple[int, tuple[Any, ...]] | None:
    """(page number, sort key) of a cursor made by `_cursor` for these keys, or None for anything
    else (a link cut short, edited by hand, made for another sort)."""
    try:
        number, values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not (isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= 10 ** 9):
            return None
        if not (isinstance(values, list) and len(values) == len(keys)):
            return None
        return number, tuple(_key_value(name, value) for (name, _desc), value in zip(keys, values, strict=True))
    except (ValueError, TypeError, UnicodeError):  # binascii.Error and JSONDecodeError are ValueErrors
        return None


def _beyond(keys: list[tuple[str, bool]], values: tuple[Any, ...], backwards: bool) -> Q:
    """Rows after the key `values` in the order of `keys` (before it, `backwards`): the first key
    beyond, or equal on it and beyond on the next, and so on."""
    condition, equal = Q(), Q()
    for (name, desc), value in zip(keys, values, strict=True):
        condition |= equal & Q(**{f"{name}__{'gt' if desc == backwards else 'lt'}": value})
        equal &= Q(**{name: value})
    return condition


@dataclass
class Page:
    """One page of results: its rows (ITEM_COLUMNS), number, whether pages come before and after it,
    and the cursors that lead there."""

    rows: list[tuple[Any, ...]]
    number: int
    previous: str | None = None
    next: str | None = None
    following: int | None = None  # the matches from this page on, up to COUNT_LIMIT + 1, when counted


def _page_of(matches: Any, keys: list[tuple[str, bool]], query: Any, counting: bool = False) -> tuple[Page, bool]:
    """The page a request asks for (`after`, `before` or an old `page`), and whether its cursor was
    not one (then the first page). Two queries: the page's ids and sort keys (PAGE_SIZE + 1, to know
    whether another page follows), then those rows by key; `counting`, going forwards with another
    page to follow, a third: the matches from the page on, counted in SQL up to COUNT_LIMIT + 1 (no
    sort, no rows brought into Python)."""
    names = [name for name, _desc in keys]
    after, before = query.get("after"), query.get("before")
    position = _read_cursor(after or before, keys) if (after or before) else None
    backwards = bool(before) and position is not None
    following: int | None = None  # set by keyed: the matches from its page on, up to COUNT_LIMIT + 1

    def keyed(beyond: Q, back: bool, offset: int = 0) -> list[tuple[Any, ...]]:
        nonlocal following
        ordered = _ordered(matches, keys, back).filter(beyond)
        rows = list(ordered.values_list("pk", *names)[offset:offset + PAGE_SIZE + 1])
        following = len(rows)
        if counting and not back and following > PAGE_SIZE:  # counted in SQL, unsorted, up to the bound
            following = ordered.order_by()[offset:offset + COUNT_LIMIT + 1].count()
        return rows

    if position is not None:
        number, values = position
        found = keyed(_beyond(keys, values, backwards), backwards)
        first = last = False
        if not found and backwards:  # nothing before its place now (entries left since): the first page
            found, backwards, first = keyed(Q(), False), False, True
        elif not found:  # nothing after its place now: the last page
            found, backwards, last = keyed(Q(), True), True, True
        more, following = len(found) > PAGE_SIZE, None if backwards else following
        found = found[:PAGE_SIZE]
        if backwards:
            found.reverse()
            earlier, later = more, not last
            number = max(number - last, 2) if more else 1
        else:  # after a place: a page before it, whatever number the link said
            earlier, later = not first, more
            number = 1 if first else max(number, 2)
    else:
        number = _page_number(query.get("page"), 10 ** 9)  # a bound keeps the OFFSET a 64-bit integer
        found = keyed(Q(), False, (number - 1) * PAGE_SIZE)
        if not found and number > 1:  # past the last (an old link): the last page, as before
            matched = matches.count()
            number = max(1, math.ceil(matched / PAGE_SIZE))
            found = keyed(Q(), False, (number - 1) * PAGE_SIZE) if matched else []
        earlier, later = number > 1, len(found) > PAGE_SIZE
        found = found[:PAGE_SIZE]
    by_pk = {row[0]: row[1:] for row in RegistryEntry.objects.filter(pk__in=[row[0] for row in found])
             .values_list("pk", *ITEM_COLUMNS)}
    page = Page(rows=[by_pk[row[0]] for row in found], number=number, following=following if counting else None)
    if found and earlier:
        page.previous = _cursor(number - 1, found[0][1:])
    if found and later:
        page.next = _cursor(number + 1, found[-1][1:])
    return page, bool(after or before) and position is None


def _counted(matches: Any, page: Page, searched: bool, registry: Registry | None) -> tuple[int, bool]:
    """(count, exact): the registry's count when nothing is searched (known); a search's exact count
    when it was counted with its page (the pages before it, by their number, and the matches from it
    on), "more than COUNT_LIMIT" when that count passed it (no second count: at 50,000 entries it
    was 4-5 ms of a common word's page), else counted up to COUNT_LIMIT (one bounded query: a page
    reached backwards)."""
    if not searched:
        return (registry.count if registry is not None else 0), True
    if page.number == 1 and page.next is None:
        return len(page.rows), True
    if page.following is not None and page.following <= COUNT_LIMIT:  # counted with the page
        return (page.number - 1) * PAGE_SIZE + page.following, True
    if page.following is not None:  # more than COUNT_LIMIT from this page on: more than it in all
        return COUNT_LIMIT, False
    matched = matches.order_by()[:COUNT_LIMIT + 1].count()
    return min(matched, COUNT_LIMIT), matched <= COUNT_LIMIT


_NIL = str(uuid.UUID(int=0))


def _index_body(registry: Registry | None, criteria: dict[str, str], problems: list[str], query: Any) -> str:
    now = timezone.now()
    keys = _sort_keys(criteria.get("sort", "newest"), _language())
    matches = _matching(criteria, now) if registry is not None else RegistryEntry.objects.none()
    searched = bool({k for k in criteria if k != "sort"})
    page, bad_cursor = _page_of(matches, keys, query, counting=searched)
    if bad_cursor:
        problems = [*problems, _("This page link is not valid (cut short or changed): the first page is shown.")]
    matched, exact = _counted(matches, page, searched, registry)
    pages = max(1, math.ceil(matched / PAGE_SIZE)) if exact else None
    shown = [item_of(row) for row in page.rows]
    image_path = reverse("registry:image_png", args=[_NIL])  # reversed once a page, each id put in
    facets = _facets(registry) if registry is not None else {"organisation": [], "level": [], "type": [],
                                                              "tags": []}
    base = {k: v for k, v in criteria.items()}
    first_shown = (page.number - 1) * PAGE_SIZE + 1
    context = {
        "registry": registry,
        "criteria": criteria,
        "problems": problems,
        "searched": searched,
        "filtered": len([name for name in criteria if name != "q"]),  # filters and sorting in use
        "total": registry.count if registry is not None else 0,
        "matched": matched,
        "exact": exact,
        "count_limit": number_format(COUNT_LIMIT, force_grouping=True),
        "results": shown,
        "rows": _result_rows([{**_display(item, now), "image_path": image_path.replace(_NIL, item.id)}
                              for item in shown], _row_labels()),
        "page": {"number": page.number, "pages": pages, "several": page.previous or page.next,
                 "first_shown": first_shown if shown else 0, "last_shown": first_shown - 1 + len(shown),
                 "first": urlencode(base) if page.previous else None,
                 "previous": urlencode({**base, "before": page.previous}) if page.previous else None,
                 "next": urlencode({**base, "after": page.next}) if page.next else None},
        "selects": mark_safe("".join([  # noqa: S308 (every part escaped by _select)
            _select("organisation", _("Organisation"), facets["organisation"], criteria.get("organisation"),
                    any_label=_("Any"), registry=registry),
            _select("level", _("Level"), facets["level"], criteria.get("level"), any_label=_("Any"),
                    registry=registry),
            _select("pattern", _("Credential pattern"), FIXED_CHOICES["pattern"](), criteria.get("pattern"),
                    any_label=_("Any")),
            _select("type", _("Achievement type"), facets["type"], criteria.get("type"), any_label=_("Any"),
                    registry=registry),
        ])),
        "selects_after": mark_safe("".join([  # noqa: S308 (every part escaped by _select)
            _select("standing", _("Standing"), FIXED_CHOICES["standing"](), criteria.get("standing"),
                    any_label=_("Any")),
            _select("sort", _("Sort by"), FIXED_CHOICES["sort"](), criteria.get("sort")),
        ])),
        "tags": facets["tags"],
        "pathways": _pathways_found(registry, criteria),
    }
    return render_to_string("registry/_index_body.html", context)


def _pathways_found(registry: Registry | None, criteria: dict[str, str]) -> list[dict[str, Any]]:
    """The endorsed pathways matching the words searched (names, descriptions, outcomes, the
    components' names and the organisation, in both languages) and the organisation and level
    filters; all of them when nothing is searched."""
    if registry is None:
        return []
    words = fold(criteria.get("q", "")).split()
    found = []
    for entry in registry.pathways:
        if words and not all(w in entry.get("search_text", "") for w in words):
            continue
        if criteria.get("organisation") and entry["organisation"]["slug"] != criteria["organisation"]:
            continue
        if criteria.get("level") and (entry["pathway"].get("level") or "") != criteria["level"]:
            continue
        found.append(entry)
    return found


def _item_or_404(registry: Registry | None, public_id: Any) -> Item:
    item = registry.by_id.get(str(public_id)) if registry is not None else None
    if item is None:
        raise Http404
    return item


@require_safe
def registry_programme(request: HttpRequest, public_id: Any) -> HttpResponse:
    registry = registry_current()
    item = _item_or_404(registry, public_id)
    body = _fragment(registry, ("programme", _language(), item.id), lambda: _programme_body(registry, item))
    title, _fallback = _in_language(item.entry["programme"], "name")
    # The figures per month come from the snapshot, as the rest of the page does (no query).
    figures = figures_context(registry_figures(item.entry), reverse("registry:figures_csv", args=[item.id]))
    return render(request, "registry/programme.html",
                  {"title": title, "body": mark_safe(body), "public_id": item.id, **figures})  # noqa: S308


@require_safe
def registry_programme_figures_csv(request: HttpRequest, public_id: Any) -> HttpResponse:
    """The programme's issuance figures per month as CSV: public, as the registry's totals are."""
    item = _item_or_404(registry_current(), public_id)
    return figures_csv_response(registry_figures(item.entry), item.id)


def _programme_body(registry: Registry, item: Item) -> str:
    now = timezone.now()
    entry = item.entry
    previous = [
        {**e, "standing": _standing(e["state"]), "valid_from_dt": _parse(e["valid_from"]),
         "valid_until_dt": _parse(e["valid_until"])}
        for e in entry.get("previous_endorsements", [])
    ]
    reports = [
        {**r, "period_start_d": _parse_date(r["period_start"]), "period_end_d": _parse_date(r["period_end"])}
        for r in entry["issuance"]["reports"]
    ]
    following = entry.get("next_endorsement")
    if following:
        following = {**following, "standing": _standing(following["state"]),
                     "valid_from_dt": _parse(following["valid_from"]),
                     "valid_until_dt": _parse(following["valid_until"])}
    context = {
        "registry": registry,
        "item": _display(item, now),
        "previous": previous,
        "next": following,
        "reports": reports,
        "mark_snippet": mark_snippet(entry, lang=_language()),
        "kind": _label(OrganisationKind, entry["organisation"].get("kind", "")),
    }
    return render_to_string("registry/_programme_body.html", context)


@require_safe
def registry_organisation(request: HttpRequest, slug: str) -> HttpResponse:
    registry = registry_current()
    organisation = registry.organisations_by_slug.get(slug) if registry is not None else None
    if organisation is None:
        raise Http404
    now = timezone.now()
    items = registry.organisation_items(slug)
    shown = [_display(item, now) for item in items]
    counts = Counter(d["standing"]["state"] for d in shown)
    context = {
        "registry": registry,
        "organisation": {**organisation, "programmes": [item.id for item in items]},
        "name": _organisation_name(organisation),
        "kind": _label(OrganisationKind, organisation.get("kind", "")),
        "membership": _label(MembershipState, organisation["membership"]),
        "membership_since": _parse(organisation.get("membership_since")),
        "results": shown,
        "counts": [(_standing(state), counts[state]) for state in EndorsementState.values if counts[state]],
    }
    return render(request, "registry/organisation.html", context)


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _parse_date(value: str) -> Any:
    return datetime.fromisoformat(value).date()


# --- Open data ------------------------------------------------------------------------------------
def _public_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as published: without the internal search text."""
    return {k: v for k, v in entry.items() if k != "search_text"}


def _trust_links() -> dict[str, str]:
    """Where the same list is published signed (endorsement.trust, docs/api.md)."""
    return {
        "trust_list_credential": settings.SITE_URL + reverse("registry:trust_list"),
        "openid_federation": settings.SITE_URL + reverse("federation-configuration"),
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_chunks(registry: Registry | None) -> Iterator[bytes]:
    """registry.json: the stored entries' bodies joined as they are (no parsing), then the
    organisations and pathways."""
    if registry is None:
        yield _dumps({"generated_at": None, "digest": None, "count": 0, "links": _trust_links(), "entries": [],
                      "organisations": [], "pathways": []}).encode("utf-8")
        return
    head = _dumps({"generated_at": registry.generated_at.isoformat(), "digest": registry.digest,
                   "count": registry.count, "links": _trust_links()})
    yield (head[:-1] + ',"entries":[').encode("utf-8")
    rows = RegistryEntry.objects.order_by(*NEWEST).values_list("body", flat=True)
    for n, body in enumerate(rows.iterator(chunk_size=2000)):
        yield (("," if n else "") + body).encode("utf-8")
    # Endorsed pathways (pathways.registry): `url` and `endorsement.endorsementCredential` as entries have.
    yield ('],"organisations":' + _dumps(with_programmes(registry.organisations))
           + ',"pathways":' + _dumps([_public_entry(p) for p in registry.pathways]) + "}").encode("utf-8")


def _entries(registry: Registry | None) -> Iterator[dict[str, Any]]:
    if registry is not None:
        for item in registry.iter_items():
            yield item.entry


CSV_COLUMNS = [
    "id", "url", "name_en", "name_ja", "organisation_slug", "organisation_name", "organisation_name_ja",
    "organisation_did", "level", "level_framework", "learning_hours", "credential_pattern", "achievement_type",
    "participation_form", "language", "tags", "standing", "endorsed_on", "valid_from", "valid_until",
    "criteria_table", "achievement_url", "endorsement_credential_url", "badges_issued_here",
    "badges_reported_elsewhere",
]


def _csv_row(entry: dict[str, Any]) -> list[Any]:
    programme, organisation, endorsement = entry["programme"], entry["organisation"], entry["endorsement"]
    table = endorsement.get("criteria_table") or {}
    return [
        entry["id"], entry["url"], programme["name_en"], programme["name_ja"], organisation["slug"],
        organisation["name"], organisation["name_ja"], organisation["did"], programme["level"],
        programme["level_framework"], programme["learning_hours"] or "", programme["credential_pattern"],
        programme["achievement_type"], programme["participation_form"], programme["language"],
        ";".join(programme["tags"]), endorsement["state"], endorsement["endorsed_on"], endorsement["valid_from"],
        endorsement["valid_until"], f"{table['code']} v{table['version']}" if table else "",
        entry["links"]["achievement"], entry["links"]["endorsementCredential"] or "",
        entry["issuance"]["issued_here"], entry["issuance"]["reported_elsewhere"],
    ]


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_lines(columns: list[str], rows: Any) -> Iterator[bytes]:
    out = io.StringIO()
    out.write("\ufeff")  # a byte-order mark: spreadsheet programs then read the Japanese as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        writer.writerow([csv_safe(value) for value in row])
        if n % 500 == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def _csv_chunks(registry: Registry | None) -> Iterator[bytes]:
    return _csv_lines(CSV_COLUMNS, (_csv_row(entry) for entry in _entries(registry)))


PATHWAY_CSV_COLUMNS = [
    "id", "url", "name_en", "name_ja", "organisation_slug", "organisation_name", "organisation_name_ja",
    "organisation_did", "level", "level_framework", "learning_hours", "components", "standing", "valid_from",
    "valid_until", "criteria_table", "achievement_url", "endorsement_credential_url",
]


def _pathway_csv_row(entry: dict[str, Any]) -> list[Any]:
    pathway, organisation, endorsement = entry["pathway"], entry["organisation"], entry["endorsement"]
    table = endorsement.get("criteria_table") or {}
    return [
        entry["id"], entry["url"], pathway["name_en"], pathway["name_ja"], organisation["slug"], organisation["name"],
        organisation["name_ja"], organisation["did"], pathway["level"], pathway["level_framework"],
        pathway["learning_hours"] or "", ";".join(c["achievement"] for c in pathway["components"]),
        endorsement["state"], endorsement["valid_from"], endorsement["valid_until"],
        f"{table['code']} v{table['version']}" if table else "", entry["links"]["achievement"],
        entry["links"]["endorsementCredential"] or "",
    ]


def _pathway_csv_chunks(registry: Registry | None) -> Iterator[bytes]:
    return _csv_lines(PATHWAY_CSV_COLUMNS, (_pathway_csv_row(e) for e in (registry.pathways if registry else [])))


def _feed_chunks(registry: Registry | None) -> Iterator[bytes]:
    yield _feed_body(registry)


def _feed_body(registry: Registry | None) -> bytes:
    """Atom: the programmes most recently published (newly endorsed), newest first. In English (the
    body is made once per snapshot, whatever the visitor's language); names in both languages."""
    with translation.override("en"):
        return _feed(registry).writeString("utf-8").encode("utf-8")


def _feed(registry: Registry | None) -> Atom1Feed:
    site = settings.SITE_URL
    feed = Atom1Feed(
        title=_("Newly endorsed programmes"),
        link=site + reverse("registry:index"),
        feed_url=site + reverse("registry:feed"),
        feed_guid=site + reverse("registry:feed"),
        description=_("Programmes newly endorsed and published in the registry."),
        author_name=_registry_author(registry),
        language="en",
    )
    rows = RegistryEntry.objects.order_by("-published", "-public_id").values_list(*ITEM_COLUMNS)[:FEED_SIZE]
    for item in (item_of(row) for row in (rows if registry is not None else [])):
        entry = item.entry
        programme, organisation, endorsement = entry["programme"], entry["organisation"], entry["endorsement"]
        title = programme["name_en"] or programme["name_ja"]
        if programme["name_en"] and programme["name_ja"]:
            title = f"{programme['name_en']} / {programme['name_ja']}"
        summary = (
            f"{organisation['name']} — {_label(EndorsementState, endorsement['state'])}, "
            f"valid {endorsement['valid_from'][:10]} to {endorsement['valid_until'][:10]}. "
            f"{programme['description_en'] or programme['description_ja']}"
        )
        feed.add_item(
            title=title, link=entry["url"], description=summary.strip(), unique_id=entry["url"],
            unique_id_is_permalink=True, pubdate=_published(item), updateddate=item.changed,
            author_name=organisation["name"], categories=[endorsement["state"], *programme["tags"]],
        )
    # Pathways newly endorsed, after the programmes (a feed reader sorts by date).
    for entry in (registry.pathways if registry is not None else [])[:FEED_SIZE]:
        pathway, endorsement = entry["pathway"], entry["endorsement"]
        title = " / ".join(n for n in (pathway["name_en"], pathway["name_ja"]) if n)
        moment = _parse(endorsement.get("published_at") or endorsement["valid_from"])
        standing = _label(EndorsementState, endorsement["state"])
        kind = _("Pathway")
        summary = (f"{kind}: {entry['organisation']['name']} — {standing}, "
                   f"valid {endorsement['valid_from'][:10]} to {endorsement['valid_until'][:10]}. "
                   f"{pathway['description_en'] or pathway['description_ja']}")
        feed.add_item(title=title, link=entry["url"], description=summary.strip(), unique_id=entry["url"],
                      unique_id_is_permalink=True, pubdate=moment, updateddate=moment,
                      author_name=entry["organisation"]["name"], categories=["pathway", endorsement["state"]])
    return feed


def _published(item: Item) -> datetime:
    published = item.entry["endorsement"].get("published_at")
    return _parse(published) if published else item.valid_from


def _registry_author(registry: Registry | None) -> str:
    """The certification body as the entries name it (the same in every entry)."""
    body = RegistryEntry.objects.order_by(*NEWEST).values_list("body", flat=True).first() if registry else None
    endorser = json.loads(body)["endorsement"].get("endorser") if body else None
    return endorser["name"] if endorser else settings.BODY_NAME


def _sitemap_chunks(registry: Registry | None) -> Iterator[bytes]:
    site = settings.SITE_URL

    def line(location: str, modified: datetime | None) -> bytes:
        lastmod = f"<lastmod>{modified.date().isoformat()}</lastmod>" if modified else ""
        return f"<url><loc>{escape(location)}</loc>{lastmod}</url>\n".encode()

    yield (b'<?xml version="1.0" encoding="UTF-8"?>\n'
           b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
    yield line(site + reverse("registry:index"), registry.generated_at if registry else None)
    if registry is not None:
        page = site + reverse("registry:programme", args=[_ZERO])
        rows = RegistryEntry.objects.order_by(*NEWEST).values_list("public_id", "changed")
        for public_id, changed in rows.iterator(chunk_size=5000):
            yield line(page.replace(str(_ZERO), str(public_id)), changed)
        for location in [o["url"] for o in registry.organisations] + [p["url"] for p in registry.pathways]:
            yield line(location, None)
    yield b"</urlset>\n"


def _cached_file(registry: Registry, kind: str, make: Callable[[Registry | None], Iterator[bytes]],
                 gzipped: bool) -> Path:
    """The body of `kind` for this registry version as a file (gzip-compressed when asked), written
    once by the first worker that needs it (atomically: written aside, then renamed); files of older
    versions are removed then."""
    folder = Path(settings.REGISTRY_CACHE_DIR)
    # The digest and the time: a registry back at an earlier content is a new version (its time).
    version = f"{registry.digest}-{int(registry.generated_at.timestamp() * 1e6)}"
    plain = folder / f"{kind}-{version}"
    target = plain.with_name(plain.name + ".gz") if gzipped else plain
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".part-", delete=False) as out:
        if gzipped:
            with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) as compressed:
                for chunk in (_read(plain) if plain.exists() else make(registry)):
                    compressed.write(chunk)
        else:
            for chunk in make(registry):
                out.write(chunk)
    os.replace(out.name, target)
    for old in folder.glob(f"{kind}-*"):
        if version not in old.name:
            with contextlib.suppress(OSError):
                old.unlink()
    return target


def _read(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(1 << 16):
            yield chunk


def _accepts_gzip(request: HttpRequest) -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def _open_data(request: HttpRequest, kind: str, make: Callable[[Registry | None], Iterator[bytes]],
               content_type: str, *, compressible: bool = False, filename: str = "") -> HttpResponse:
    """Serve a body derived from the newest registry version, with its digest as ETag and its time
    as Last-Modified (304 when the client holds it). The body is written to a file once per version
    (`_cached_file`) and streamed from there: no worker holds it."""
    registry = registry_current()
    gzipped = compressible and _accepts_gzip(request)
    if registry is None:
        body = b"".join(make(None))
        response: HttpResponse = HttpResponse(gzip.compress(body, mtime=0) if gzipped else body,
                                              content_type=content_type)
        etag, last_modified = None, None
    else:
        etag = f'"{registry.digest}{"-gz" if gzipped else ""}"'
        last_modified = int(registry.generated_at.timestamp())
        not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if not_modified is not None:
            _validators(not_modified, etag, last_modified, compressible)
            return not_modified
        path = _cached_file(registry, kind, make, gzipped)
        if path.stat().st_size <= INLINE_BYTES:  # small: one write is cheaper than a file stream
            response = HttpResponse(path.read_bytes(), content_type=content_type)
        else:
            response = FileResponse(path.open("rb"), content_type=content_type)
    if gzipped:
        response["Content-Encoding"] = "gzip"
    if filename:
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"
    _validators(response, etag, last_modified, compressible)
    return response


def _validators(response: HttpResponse, etag: str | None, last_modified: int | None, compressible: bool) -> None:
    if etag:
        response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = "public, max-age=0, must-revalidate"
    if compressible:
        patch_vary_headers(response, ["Accept-Encoding"])


@require_safe
def registry_json(request: HttpRequest) -> HttpResponse:
    return _open_data(request, "json", _json_chunks, "application/json", compressible=True)


@require_safe
def registry_csv(request: HttpRequest) -> HttpResponse:
    return _open_data(request, "csv", _csv_chunks, "text/csv; charset=utf-8", compressible=True,
                      filename="registry.csv")


@require_safe
def registry_pathways_csv(request: HttpRequest) -> HttpResponse:
    return _open_data(request, "pathways-csv", _pathway_csv_chunks, "text/csv; charset=utf-8", compressible=True,
                      filename="registry-pathways.csv")


@require_safe
def registry_feed(request: HttpRequest) -> HttpResponse:
    return _open_data(request, "atom", _feed_chunks, "application/atom+xml; charset=utf-8")


@require_safe
def sitemap(request: HttpRequest) -> HttpResponse:
    return _open_data(request, "sitemap", _sitemap_chunks, "application/xml; charset=utf-8")
