"""The public registry: one row per entry (`RegistryEntry`), rendered from the database and
rewritten only when what it renders changed.

`_render(programme_ids)` is the only code here that reads the workflow's tables: one entry per
published programme (or per programme of `programme_ids`): its newest published endorsement, the
earlier ones listed beside it, issuance figures, links and a folded search text. `registry_refresh()`
renders every entry (the full rebuild: `manage.py registry_rebuild`, the daily beat task);
`registry_refresh_pending()`, what the Celery task `refresh_registry` runs after a change commits,
renders only the programmes noted in `RegistryChange` by the change itself. Both write the rows whose
digest changed and the search index (`RegistryToken`: words, and character bigrams for Japanese),
and a new `RegistrySnapshot` (the registry's version: digest, organisations, pathways) only when the
registry's digest changed. Incremental and full give the same rows and digest.

Pages and open data read the newest version's head through `registry_current()` (one small query
per request; the process keeps the head, the organisations and pathways) and query the entries
they show (endorsement.registry_views).

What notes a change, and when the refresh runs:
- every change of an endorsement's standing and publication (endorsement.transitions): on commit;
- badges issued or revoked (`registry_changed`, called by badges.awards): the issuance counts. With a
  broker, one refresh per `REFRESH_DELAY_SECONDS` window, however many awards; with no broker (eager
  tasks) nothing can run later, so the refresh runs after each commit (after each chunk of a batch);
- an issuance report filed, corrected or withdrawn (endorsement.reports), quality-review conditions
  (endorsement.quality) and an organisation's membership (institutions.services):
  `registry_refresh_on_commit(programmes=…, organisation=…)`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import threading
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from badges.models import Award, Programme
from config.tasking import enqueue_debounced_on_commit, enqueue_on_commit, task_named
from endorsement.models import (
    REGISTRY_ORDER,
    TOKEN_FILTER_COLUMNS,
    ApplicationState,
    Endorsement,
    EndorsementState,
    IssuanceReport,
    QualityReview,
    QualityReviewState,
    RegistryChange,
    RegistryEntry,
    RegistrySnapshot,
    RegistryToken,
    ReportStatus,
)
from institutions.keys import organisation_did
from institutions.models import MembershipState, Organisation
from pathways.registry import pathway_entries, pathways_by_programme

# Snapshots kept (the newest serves; older ones are history). At 10,000 programmes a snapshot is
# about 25 MB of JSON, so keep few.
KEEP_SNAPSHOTS = 5
log = logging.getLogger(__name__)
# With a broker: after an award is issued or revoked, refresh at most once per this many seconds.
REFRESH_DELAY_SECONDS = int(getattr(settings, "REGISTRY_REFRESH_DELAY_SECONDS", 30))
_PENDING_KEY = "endorsement:registry-refresh-pending"
# With a broker: after a new registry version, sign the list of endorsed issuers (endorsement.trust)
# at most once per this many seconds (signing it costs seconds at 10,000 entries: docs/performance.md).
TRUST_LIST_DELAY_SECONDS = int(getattr(settings, "TRUST_LIST_DELAY_SECONDS", 60))
_TRUST_LIST_PENDING_KEY = "endorsement:trust-list-pending"
# Memberships that make an organisation appear in the registry with a page of its own.
LISTED_MEMBERSHIPS = [MembershipState.ACTIVE, MembershipState.SUSPENDED, MembershipState.WITHDRAWN]
_ZERO = uuid.UUID(int=0)


def fold(text: str) -> str:
    """Comparable text: NFKC (full-width to half-width, for Japanese input) and case-folded."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def _url(name: str, sample: Any = _ZERO):
    """A fast URL maker for one route: reverse once, then substitute (10,000 reverses cost ~0.5 s)."""
    template = settings.SITE_URL + reverse(name, args=[sample])
    marker = str(sample)
    return lambda value: template.replace(marker, str(value))


# --- Rendering (the only part that queries) -------------------------------------------------------
def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


ENDORSEMENT_COLUMNS = (
    "pk", "public_id", "programme_id", "organisation_id", "state", "valid_from", "valid_until", "published_at",
    "state_changed_at", "comment", "signed", "application__snapshot", "application__criteria_table__code",
    "application__criteria_table__version", "programme__public_id", "programme__name_en", "programme__name_ja",
    "version",
)


def _achievement_of(row: dict[str, Any], achievement_url, version_url) -> str:
    # Version 1 keeps the programme's own Achievement URL (badges.achievements.achievement_id).
    public_id = row["programme__public_id"]
    if row["version"] <= 1:
        return achievement_url(public_id)
    return version_url(public_id).replace("/v2.json", f"/v{row['version']}.json")


def _endorsement_part(row: dict[str, Any], credential_url, awards: dict[int, int], achievement=None) -> dict[str, Any]:
    code = row["application__criteria_table__code"]
    return {
        "id": str(row["public_id"]),
        "state": row["state"],
        "version": row["version"],
        "achievement": achievement(row) if achievement else None,
        "endorsed_on": row["valid_from"].date().isoformat(),
        "valid_from": row["valid_from"].isoformat(),
        "valid_until": row["valid_until"].isoformat(),
        "published_at": _iso(row["published_at"]),
        "state_changed_at": _iso(row["state_changed_at"]),
        "comment": row["comment"],
        "criteria_table": {"code": code, "version": row["application__criteria_table__version"]} if code else None,
        "endorsementCredential": credential_url(row["public_id"]) if row["signed"] else None,
        "badges_issued_here": awards.get(row["pk"], 0),
    }


def _search_text(programme: dict[str, Any], organisation: dict[str, Any]) -> str:
    parts = [
        programme["name_en"], programme["name_ja"], programme["description_en"], programme["description_ja"],
        *programme["learning_outcomes"], *programme["tags"], organisation["name"], organisation["name_ja"],
    ]
    return fold("\n".join(str(p) for p in parts if p))


def _programme_part(snapshot: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    hours = snapshot.get("learning_hours")
    return {
        "name_en": snapshot.get("name_en", row["programme__name_en"]) or "",
        "name_ja": snapshot.get("name_ja", row["programme__name_ja"]) or "",
        "description_en": snapshot.get("description_en") or "",
        "description_ja": snapshot.get("description_ja") or "",
        "learning_outcomes": [str(o) for o in snapshot.get("learning_outcomes") or []],
        "criteria_narrative": snapshot.get("criteria_narrative") or "",
        "assessment_method": snapshot.get("assessment_method") or "",
        "level": snapshot.get("level") or "",
        "level_framework": snapshot.get("level_framework") or "",
        "learning_hours": str(hours) if hours not in (None, "") else None,
        "credential_pattern": snapshot.get("credential_pattern") or "",
        "achievement_type": snapshot.get("achievement_type") or "",
        "participation_form": snapshot.get("participation_form") or "",
        "language": snapshot.get("language") or "",
        "tags": [str(t) for t in snapshot.get("tags") or []],
        "alignments": list(snapshot.get("alignments") or []),
    }


def _organisation_ref(organisation: Organisation, org_url) -> dict[str, Any]:
    return {
        "slug": organisation.slug,
        "name": organisation.name,
        "name_ja": organisation.name_ja,
        "kind": organisation.kind,
        "country": organisation.country,
        "did": organisation_did(organisation),
        "url": org_url(organisation.slug),
    }


def _only(queryset, field: str, programme_ids: set[int] | None):
    return queryset if programme_ids is None else queryset.filter(**{f"{field}__in": programme_ids})


def _reports_by_programme(programme_ids: set[int] | None = None) -> dict[int, list[dict[str, Any]]]:
    reports: dict[int, list[dict[str, Any]]] = defaultdict(list)
    # Only filed reports: a corrected revision or a withdrawn report no longer counts.
    rows = _only(IssuanceReport.objects.filter(status=ReportStatus.FILED), "programme_id", programme_ids).order_by(
        "period_start", "period_end", "platform", "pk").values(
        "programme_id", "endorsement__public_id", "period_start", "period_end", "platform", "count", "note",
        "reported_at", "revision",
    )
    for row in rows:
        reports[row["programme_id"]].append({
            "endorsement": str(row["endorsement__public_id"]),
            "period_start": row["period_start"].isoformat(),
            "period_end": row["period_end"].isoformat(),
            "platform": row["platform"],
            "count": row["count"],
            "note": row["note"],
            "reported_at": row["reported_at"].isoformat(),
            "revision": row["revision"],
        })
    return reports


def _conditions_by_endorsement(programme_ids: set[int] | None = None) -> dict[int, dict[str, str]]:
    """Conditions a quality review set, still to be met: {"text", "due"} by endorsement (one query)."""
    rows = _only(QualityReview.objects.filter(state=QualityReviewState.CONDITIONS), "endorsement__programme_id",
                 programme_ids).values(
        "endorsement_id", "conditions", "conditions_due")
    return {r["endorsement_id"]: {"text": r["conditions"], "due": r["conditions_due"].isoformat()} for r in rows}


def _award_counts(programme_ids: set[int] | None = None) -> dict[int, int]:
    """Badges issued by this server and not revoked, per endorsement (one aggregate query)."""
    rows = _only(Award.objects.filter(revoked_at__isnull=True), "programme_id", programme_ids).values(
        "endorsement_id").annotate(n=Count("pk"))
    return {row["endorsement_id"]: row["n"] for row in rows.order_by()}


def _award_months(programme_ids: set[int] | None = None) -> dict[int, dict[str, int]]:
    """Badges issued by this server and not revoked, per programme and calendar month ("YYYY-MM"),
    for the registry page's chart (endorsement/figures.py). One aggregate query."""
    rows = (
        _only(Award.objects.filter(revoked_at__isnull=True), "programme_id", programme_ids)
        .annotate(month=TruncMonth("issued_at", tzinfo=timezone.get_default_timezone()))
        .values("programme_id", "month").annotate(n=Count("pk")).order_by()
    )
    months: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        months[row["programme_id"]][f"{row['month']:%Y-%m}"] = row["n"]
    return {pk: dict(sorted(by_month.items())) for pk, by_month in months.items()}


def _endorser() -> dict[str, Any] | None:
    body = Organisation.objects.filter(is_certification_body=True).first()
    if body is None:
        return None
    return {"name": body.name, "name_ja": body.name_ja, "did": organisation_did(body)}


def registry_entries(programme_ids: set[int] | None = None) -> list[dict[str, Any]]:
    """The entries as published (see `_render`)."""
    entries = _render(programme_ids)
    for entry in entries:
        del entry["programme_pk"], entry["organisation_pk"]
    return entries


def _render(programme_ids: set[int] | None = None) -> list[dict[str, Any]]:
    """One entry per programme with a published endorsement (of every programme, or of those in
    `programme_ids`): the newest such endorsement is the programme's `endorsement`, earlier ones are
    `previous_endorsements`. Newest endorsed first. Seven queries whatever the size; rows are read
    as dicts (no model instances: at 10,000 entries building models cost more than everything else)."""
    rows = (
        # Programmes only: pathways have a list of their own (pathways.registry).
        _only(Endorsement.objects.filter(application__state=ApplicationState.PUBLISHED, programme__isnull=False),
              "programme_id", programme_ids)
        # Whether the credential is signed, not the credential (several kB each).
        .annotate(signed=ExpressionWrapper(Q(credential__isnull=False), output_field=BooleanField()))
        .order_by("programme_id", "-valid_from", "-pk")
        .values(*ENDORSEMENT_COLUMNS)
    )
    awards, reports, endorser = _award_counts(programme_ids), _reports_by_programme(programme_ids), _endorser()
    award_months = _award_months(programme_ids)
    conditions = _conditions_by_endorsement(programme_ids)
    page_url, achievement_url = _url("registry:programme"), _url("achievement-json")
    template = settings.SITE_URL + reverse("achievement-version-json", args=[_ZERO, 2])
    version_url = lambda value: template.replace(str(_ZERO), str(value))  # noqa: E731

    def achievement(row: dict[str, Any]) -> str:
        return _achievement_of(row, achievement_url, version_url)
    credential_url, org_url = _url("endorsement-credential"), _url("registry:organisation", "slug-x")
    mark_svg, mark_html = _url("registry:mark_svg"), _url("registry:mark_html")

    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["programme_id"]].append(row)
    organisations = {
        o.pk: _organisation_ref(o, org_url)
        for o in Organisation.objects.filter(pk__in={g[0]["organisation_id"] for g in grouped.values()})
    }
    ranked = []
    for group in grouped.values():
        # The current endorsement is the newest that has started; a renewal or change granted but
        # not started yet is shown as `next_endorsement` (and earlier ones as the history).
        upcoming = [e for e in group if e["state"] == EndorsementState.SCHEDULED]
        started = [e for e in group if e["state"] != EndorsementState.SCHEDULED]
        if not started:
            started, upcoming = upcoming[-1:], upcoming[:-1]
        current, earlier = started[0], started[1:]
        public_id = str(current["programme__public_id"])
        content = _programme_part(current["application__snapshot"] or {}, current)
        organisation = organisations[current["organisation_id"]]
        programme_reports = reports.get(current["programme_id"], [])
        endorsement = {**_endorsement_part(current, credential_url, awards, achievement),
                       "conditions": conditions.get(current["pk"]), "endorser": endorser}
        previous = [_endorsement_part(e, credential_url, awards, achievement) for e in earlier]
        following = [_endorsement_part(e, credential_url, awards, achievement) for e in upcoming]
        entry = {
            "id": public_id,
            "url": page_url(public_id),
            "programme": content,
            "organisation": organisation,
            "endorsement": endorsement,
            "previous_endorsements": previous,
            "next_endorsement": following[-1] if following else None,
            "links": {
                "registry_page": page_url(public_id),
                "achievement": endorsement["achievement"],
                "endorsementCredential": endorsement["endorsementCredential"],
                "mark_svg": mark_svg(public_id),
                "mark_html": mark_html(public_id),
            },
            "issuance": {
                "issued_here": sum(e["badges_issued_here"] for e in [endorsement, *previous, *following]),
                "reported_elsewhere": sum(r["count"] for r in programme_reports),
                "reports": programme_reports,
                "issued_here_by_month": award_months.get(current["programme_id"], {}),
            },
            "search_text": _search_text(content, organisation),
            "programme_pk": current["programme_id"],  # not published: RegistryEntry.programme_id
            "organisation_pk": current["organisation_id"],
        }
        ranked.append(((current["valid_from"], -current["programme_id"]), entry))
    ranked.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _, entry in ranked]


def _logo(organisation: Organisation, logo_url) -> str | None:
    """The logo's URL with its stored file's name as a version (the name holds the first digits of
    its SHA-256, institutions.services): a replaced logo is a new URL, never an hour-old cached copy."""
    if not organisation.logo:
        return None
    return f"{logo_url(organisation.slug)}?v={organisation.logo.name.rpartition('/')[2].rpartition('.')[0]}"


def registry_organisations() -> list[dict[str, Any]]:
    """One profile per member organisation (active, suspended or withdrawn, and any organisation
    with a published programme): its profile, membership standing and DID. Its programmes are
    read from the entries (`with_programmes`)."""
    organisations = Organisation.objects.filter(is_certification_body=False).filter(
        Q(membership__in=LISTED_MEMBERSHIPS) | Q(pk__in=RegistryEntry.objects.values("organisation_id"))
    ).order_by("slug")
    org_url = _url("registry:organisation", "slug-x")
    did_url = _url("organisation-did", "slug-x")
    logo_url = _url("registry:organisation_logo", "slug-x")
    return [{
        **_organisation_ref(organisation, org_url),
        "description": organisation.description,
        "website": organisation.website,
        "did_document": did_url(organisation.slug),
        "logo": _logo(organisation, logo_url),
        "membership": organisation.membership,
        "membership_since": _iso(organisation.membership_changed_at or organisation.applied_at),
    } for organisation in organisations]


# --- The stored entries and their search index ----------------------------------------------------
NEWEST = REGISTRY_ORDER  # the registry's own order: newest endorsed first
# Japanese and Chinese script (kana, the prolonged sound mark and CJK ideographs): written without
# spaces, so indexed by character bigrams; every other letter or digit run is indexed as a word.
_CJK = "\u3005\u3006\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
TOKEN_LENGTH = 64
TAG_PREFIX = "#"


def tokens(text: str) -> set[str]:
    """The index tokens of a folded text: each distinct word of a Latin (or other spaced) script,
    cut at TOKEN_LENGTH, and each character bigram of a run of Japanese or Chinese script."""
    found: set[str] = set()
    for run in _RUN.findall(text):
        if _CJK_CHAR.match(run):
            found.update(run[i:i + 2] for i in range(len(run) - 1))
        else:
            found.add(run[:TOKEN_LENGTH])
    return found


def word_terms(word: str) -> list[tuple[str, bool]]:
    """What a folded search word needs in the index: (token, True) for a word prefix, (bigram,
    False) for an exact bigram. A leading Latin run joined to more (as in "data実践") may be the end
    of a longer word in the text, so it asks nothing of the index; a single kana or ideograph has no
    bigram. Every word is then checked against the search text itself (`search_text LIKE`), so the
    index only narrows the rows to check."""
    runs = list(_RUN.finditer(word))
    terms: list[tuple[str, bool]] = []
    for n, match in enumerate(runs):
        run = match.group()
        if _CJK_CHAR.match(run):
            terms += [(run[i:i + 2], False) for i in range(len(run) - 1)]
        elif not (n == 0 and match.start() == 0 and len(runs) > 1):
            terms.append((run[:TOKEN_LENGTH], True))
    return terms


def _row(entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The RegistryEntry columns of a rendered entry (which loses its internal keys) and its tokens."""
    programme_pk, organisation_pk = entry.pop("programme_pk"), entry.pop("organisation_pk")
    search = entry.pop("search_text")
    body = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), check_circular=False)
    item = _item(entry)
    programme = entry["programme"]
    tags = [fold(t) for t in programme.get("tags") or [] if t]
    name_en = fold(programme.get("name_en") or programme.get("name_ja") or "")
    name_ja = fold(programme.get("name_ja") or programme.get("name_en") or "")
    published = entry["endorsement"].get("published_at")
    columns = {
        "programme_id": programme_pk, "public_id": uuid.UUID(entry["id"]), "organisation_id": organisation_pk,
        "organisation_slug": entry["organisation"]["slug"], "body": body,
        "digest": hashlib.sha256((body + "\0" + search).encode()).hexdigest(), "search_text": search,
        "tags": "\n" + "\n".join(tags) + "\n" if tags else "", "state": item.state, "valid_from": item.valid_from,
        "valid_until": item.valid_until, "renewal_from": item.renewal_from, "changed": item.changed,
        "published": parse_datetime(published) if published else item.valid_from, "hours": item.hours,
        "name_en_key": name_en[:255], "name_ja_key": name_ja[:255], "level": programme.get("level") or "",
        "achievement_type": programme.get("achievement_type") or "",
        "credential_pattern": programme.get("credential_pattern") or "",
    }
    return columns, sorted(tokens(search) | {TAG_PREFIX + t[:TOKEN_LENGTH - 1] for t in tags})


def _xor(a: str, b: str) -> str:
    return f"{int(a, 16) ^ int(b, 16):064x}"


def _store(entries: list[dict[str, Any]], programme_ids: set[int] | None, entries_digest: str,
           count: int) -> tuple[str, int]:
    """Write the rendered entries (of every programme, or of those in `programme_ids`): rows whose
    digest changed are replaced, rows no longer rendered deleted, the rest left alone. Returns the
    new XOR of all entry digests and the entry count."""
    held = RegistryEntry.objects.all() if programme_ids is None else RegistryEntry.objects.filter(
        programme_id__in=programme_ids)
    existing = {pk: (row, digest) for pk, row, digest in held.values_list("programme_id", "pk", "digest")}
    fresh: list[tuple[dict[str, Any], list[str]]] = []
    stale: list[int] = []
    for entry in entries:
        columns, words = _row(entry)
        old = existing.pop(columns["programme_id"], None)
        if old is not None and old[1] == columns["digest"]:
            continue
        if old is not None:
            stale.append(old[0])
            entries_digest = _xor(entries_digest, old[1])
            count -= 1
        fresh.append((columns, words))
        entries_digest = _xor(entries_digest, columns["digest"])
        count += 1
    for row, digest in existing.values():  # no longer published
        stale.append(row)
        entries_digest = _xor(entries_digest, digest)
        count -= 1
    for start in range(0, len(stale), 500):
        RegistryToken.objects.filter(entry_id__in=stale[start:start + 500]).delete()
        RegistryEntry.objects.filter(pk__in=stale[start:start + 500]).delete()
    for start in range(0, len(fresh), 1000):
        batch = fresh[start:start + 1000]
        made = RegistryEntry.objects.bulk_create([RegistryEntry(**columns) for columns, _words in batch])
        RegistryToken.objects.bulk_create(
            [RegistryToken(entry_id=row.pk, token=token, **{name: columns[name] for name in TOKEN_FILTER_COLUMNS})
             for row, (columns, words) in zip(made, batch, strict=True) for token in words], batch_size=5000)
    return entries_digest, count


def _head_digest(entries_digest: str, count: int, organisations: list[dict[str, Any]],
                 pathways: list[dict[str, Any]]) -> str:
    document = {"entries": entries_digest, "count": count, "organisations": organisations, "pathways": pathways}
    return hashlib.sha256(json.dumps(document, separators=(",", ":"), check_circular=False).encode()).hexdigest()


@transaction.atomic
def registry_refresh(programme_ids: set[int] | None = None) -> RegistrySnapshot:
    """Render the registry from the database: every entry (None: the full rebuild), or only the
    entries of `programme_ids` (incremental), plus the organisations and pathways (few, rendered
    each time). Entries whose rendering did not change are not written, and a new snapshot row is
    written only when the registry's digest changed, so both are safe to repeat; incremental and
    full give the same rows and digest. Keeps the newest KEEP_SNAPSHOTS rows."""
    latest = RegistrySnapshot.objects.select_for_update().order_by("-id").only(
        "id", "digest", "entries_digest", "entry_count", "pathways").first()
    if latest is None:
        programme_ids = None
    # A full rebuild covers every change noted before it started (only those: a note committed
    # while it renders may not be in what it read).
    noted = list(RegistryChange.objects.values_list("pk", flat=True)) if programme_ids is None else []
    pathways = pathway_entries()
    member_of = pathways_by_programme(pathways)
    if programme_ids is not None:
        # A programme joining or leaving a pathway shows it on its own entry: render those too.
        before = pathways_by_programme(latest.pathways)
        moved = {key for key in set(member_of) | set(before) if member_of.get(key) != before.get(key)}
        if moved:
            programme_ids = set(programme_ids) | set(
                Programme.objects.filter(public_id__in=moved).values_list("pk", flat=True))
    entries = _render(programme_ids)
    for entry in entries:
        if entry["id"] in member_of:
            entry["pathways"] = member_of[entry["id"]]
    if programme_ids is None:
        entries_digest, count = _store(entries, None, "0" * 64, RegistryEntry.objects.count())
        entries_digest, count = "0" * 64, 0  # recomputed from every row: a full rebuild trusts nothing held
        for digest in RegistryEntry.objects.values_list("digest", flat=True).iterator(chunk_size=5000):
            entries_digest, count = _xor(entries_digest, digest), count + 1
    else:
        entries_digest, count = _store(entries, programme_ids, latest.entries_digest, latest.entry_count)
    for start in range(0, len(noted), 500):
        RegistryChange.objects.filter(pk__in=noted[start:start + 500]).delete()
    organisations = registry_organisations()
    digest = _head_digest(entries_digest, count, organisations, pathways)
    if latest is not None and latest.digest == digest:
        return latest
    snapshot = RegistrySnapshot.objects.create(digest=digest, entries_digest=entries_digest, entry_count=count,
                                               organisation_profiles=organisations, pathways=pathways)
    # The signed list of endorsed issuers derives from the registry (endorsement.trust): debounced
    # with a broker (one signing per window, never a change lost). Without one, not at commit (the
    # change's author would wait seconds for it): this snapshot marks the list due
    # (trust.trust_list_due) and its first reader signs it.
    enqueue_debounced_on_commit("endorsement.tasks.sign_trust_list", _TRUST_LIST_PENDING_KEY,
                                TRUST_LIST_DELAY_SECONDS, eager=False)
    stale = RegistrySnapshot.objects.order_by("-id").values_list("pk", flat=True)[KEEP_SNAPSHOTS:]
    RegistrySnapshot.objects.filter(pk__in=list(stale)).delete()
    return snapshot


@transaction.atomic
def registry_refresh_pending() -> RegistrySnapshot:
    """What the Celery task `refresh_registry` runs: render the entries of the programmes noted as
    changed (`RegistryChange`), or everything when a change named no programme, and consume those
    notes. Changes noted while this runs stay for the refresh their own commit schedules."""
    changes = list(RegistryChange.objects.select_for_update().values_list("pk", "programme_id"))
    programme_ids: set[int] | None = {programme for _pk, programme in changes}
    if None in programme_ids:
        programme_ids = None
    snapshot = registry_refresh(programme_ids)
    for start in range(0, len(changes), 500):
        RegistryChange.objects.filter(pk__in=[pk for pk, _p in changes[start:start + 500]]).delete()
    return snapshot


def registry_latest() -> RegistrySnapshot | None:
    return RegistrySnapshot.objects.order_by("-id").first()


# --- When to refresh ------------------------------------------------------------------------------
def registry_note(programme_ids: Any = None) -> None:
    """Note in this transaction that these programmes' entries must be rendered again (None:
    everything). The notes commit with the change itself, so no change is lost if a refresh fails."""
    if programme_ids is None:
        RegistryChange.objects.create(programme_id=None)
        return
    RegistryChange.objects.bulk_create([RegistryChange(programme_id=pk) for pk in sorted(set(programme_ids))])


def registry_refresh_on_commit(*, programmes: Any = None, organisation: Organisation | None = None) -> None:
    """Note what changed and refresh the registry once this transaction commits (nothing if it rolls
    back): `programmes` (ids or Programme rows), every programme of `organisation` (a rename or a
    membership change), or with neither, everything."""
    if organisation is not None:
        registry_note(Programme.objects.filter(organisation=organisation).values_list("pk", flat=True))
    elif programmes is not None:
        registry_note(getattr(p, "pk", p) for p in programmes)
    else:
        registry_note(None)
    enqueue_on_commit("endorsement.tasks.refresh_registry")


def refresh_slot_taken() -> bool:
    """Claim the one delayed refresh of the current window: True for the first caller of a window
    (which schedules it), False while one is pending. The key expires a second before the refresh
    runs, so every change that found the slot taken committed before that refresh reads."""
    return cache.add(_PENDING_KEY, "1", timeout=max(1, REFRESH_DELAY_SECONDS - 1))


def _schedule_refresh() -> None:
    refresh_registry = task_named("endorsement.tasks.refresh_registry")
    if refresh_registry.app.conf.task_always_eager:
        refresh_registry.delay()  # no broker: nothing can run later, so refresh now
        return
    try:
        if refresh_slot_taken():
            refresh_registry.apply_async(countdown=REFRESH_DELAY_SECONDS)
    except Exception:
        # After commit: the change is made and must not fail the request (config.tasking), whether
        # the broker or a Redis cache is down. The slot is given back, so the next change schedules
        # the refresh again.
        with contextlib.suppress(Exception):
            cache.delete(_PENDING_KEY)
        log.exception("could not schedule the registry refresh after commit")


def registry_changed(programme_ids: Any = None) -> None:
    """Badges of these programmes were issued or revoked in this transaction: the issuance counts
    changed. Note them, and after commit schedule a refresh (debounced with a broker; immediate
    without one)."""
    registry_note(None if programme_ids is None else set(programme_ids))
    transaction.on_commit(_schedule_refresh)


# --- Reading: the newest snapshot's head, and entries queried as needed ---------------------------
@dataclass(eq=False)  # hashed by identity
class Item:
    """One entry with what searching and sorting need."""

    entry: dict[str, Any]
    id: str
    search: str
    state: str
    valid_from: datetime
    valid_until: datetime
    hours: float | None
    changed: datetime
    renewal_from: datetime | None = None  # a granted renewal's start, when the entry has one

    def standing(self, now: datetime) -> str:
        """The recorded state, except that an active endorsement past its end shows as expired
        before the hourly expiry task records it — unless its granted renewal has started by then
        (the task will record that too: the programme stays endorsed without a gap)."""
        if self.state == EndorsementState.ACTIVE and self.valid_until <= now:
            if self.renewal_from is not None and self.renewal_from <= now:
                return EndorsementState.ACTIVE
            return EndorsementState.EXPIRED
        return self.state


def _item(entry: dict[str, Any]) -> Item:
    endorsement, programme = entry["endorsement"], entry["programme"]
    hours = programme.get("learning_hours")
    valid_from = parse_datetime(endorsement["valid_from"])
    moments = [valid_from, *(parse_datetime(endorsement[k]) for k in ("published_at", "state_changed_at")
                            if endorsement.get(k))]
    return Item(
        entry=entry, id=entry["id"], search=entry.get("search_text", ""), state=endorsement["state"],
        valid_from=valid_from, valid_until=parse_datetime(endorsement["valid_until"]),
        hours=float(hours) if hours not in (None, "") else None, changed=max(moments),
        renewal_from=parse_datetime(entry["next_endorsement"]["valid_from"]) if entry.get("next_endorsement") else None,
    )


ITEM_COLUMNS = ("public_id", "body", "search_text", "state", "valid_from", "valid_until", "hours", "changed",
                "renewal_from")


def item_of(row: tuple[Any, ...]) -> Item:
    """An Item from a row of ITEM_COLUMNS."""
    public_id, body, search, state, valid_from, valid_until, hours, changed, renewal_from = row
    return Item(entry=json.loads(body), id=str(public_id), search=search, state=state, valid_from=valid_from,
                valid_until=valid_until, hours=hours, changed=changed, renewal_from=renewal_from)


class _ById:
    """`registry.by_id.get(public_id)`: one indexed query per lookup, nothing held."""

    def get(self, key: Any, default: Item | None = None) -> Item | None:
        try:
            public_id = uuid.UUID(str(key))
        except ValueError:
            return default
        row = RegistryEntry.objects.filter(public_id=public_id).values_list(*ITEM_COLUMNS).first()
        return item_of(row) if row is not None else default

    def __contains__(self, key: Any) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: Any) -> Item:
        item = self.get(key)
        if item is None:
            raise KeyError(key)
        return item


@dataclass(eq=False)
class Registry:
    """The newest snapshot's head: its id, digest and time, the organisations and pathways (few),
    and a per-process memo for what is derived from it (filter choices, page fragments). The
    entries stay in the database: pages query them (`entries_query`, `by_id`)."""

    id: int
    digest: str
    generated_at: datetime
    count: int
    organisations: list[dict[str, Any]]
    pathways: list[dict[str, Any]] = field(default_factory=list)
    organisations_by_slug: dict[str, dict[str, Any]] = field(init=False)
    by_id: _ById = field(init=False, default_factory=_ById)
    memo: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.organisations_by_slug = {o["slug"]: o for o in self.organisations}

    def iter_items(self, queryset: Any = None) -> Any:
        """The entries (of `queryset`, else all), newest endorsed first, read in chunks."""
        rows = (RegistryEntry.objects.all() if queryset is None else queryset).order_by(*NEWEST)
        for row in rows.values_list(*ITEM_COLUMNS).iterator(chunk_size=2000):
            yield item_of(row)

    @property
    def items(self) -> list[Item]:
        """Every entry (O(size): for tasks and tests; pages query what they show)."""
        return list(self.iter_items())

    def organisation_items(self, slug: str) -> list[Item]:
        return list(self.iter_items(RegistryEntry.objects.filter(organisation_slug=slug)))

    def derived(self, key: Any, make) -> Any:
        """`make()` once per snapshot and process (two threads may both make it: harmless)."""
        try:
            return self.memo[key]
        except KeyError:
            value = self.memo[key] = make()
            return value


_current: Registry | None = None
_load_lock = threading.Lock()


def registry_current() -> Registry | None:
    """The newest snapshot's head. One small query when the process already holds it; a second
    one to load it (organisations and pathways) when a newer snapshot appeared."""
    global _current
    head = RegistrySnapshot.objects.order_by("-id").values_list("id", "digest", "generated_at").first()
    if head is None:
        return None
    held = _current
    if held is not None and (held.id, held.digest, held.generated_at) == head:
        return held
    with _load_lock:
        held = _current
        if held is not None and (held.id, held.digest, held.generated_at) == head:
            return held
        row = RegistrySnapshot.objects.filter(pk=head[0]).values_list(
            "organisation_profiles", "pathways", "entry_count").first()
        if row is None:  # pruned by a refresh in between: read whatever is newest now
            latest = registry_latest()
            if latest is None:
                return None
            head = (latest.id, latest.digest, latest.generated_at)
            row = (latest.organisation_profiles, latest.pathways, latest.entry_count)
        organisations, pathways, count = row
        _current = Registry(id=head[0], digest=head[1], generated_at=head[2], count=count,
                            organisations=organisations, pathways=pathways)
        return _current
