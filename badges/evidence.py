"""Evidence that lasts: an award's evidence link is fetched once when the award is issued (its
SHA-256, size and content type are kept), then re-checked periodically. Its standing is
*reachable* (same content), *changed* (other content), or *gone* (HTTP ≥ 400, refused, timed out);
the organisation is told by e-mail once per change of standing.

Fetches go through `badges.fetch`: http(s) only, public addresses only (loopback only with
EVIDENCE_ALLOW_LOOPBACK, for tests), at most 3 redirects each checked again, EVIDENCE_FETCH_TIMEOUT
seconds in all. A body larger than EVIDENCE_MAX_BYTES is not refused: its first EVIDENCE_MAX_BYTES
are hashed and the check says so (the same prefix hashes the same on every re-check).

`sha256`, `size`, `content_type` and `retrieved_at` describe the content as first retrieved (the
baseline); re-checks compare against it and never move it, so "changed" stays until the content
comes back.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from badges.archive import PlannedCopy, web_copy_plan
from badges.fetch import FetchError, FetchPool, FetchResult, fetch
from badges.models import Award, EvidenceCheck
from config.i18n import local_name
from config.tasking import enqueue_on_commit
from institutions.models import CAN_EDIT, Organisation, StaffMember
from institutions.staff import staff_mail_groups
from webhooks.events import webhooks_for_evidence, webhooks_for_first_fetches

Standing = EvidenceCheck.Standing
log = logging.getLogger(__name__)

__all__ = [
    "EvidenceCheck",
    "EvidenceStanding",
    "Retrieval",
    "evidence_check_create",
    "evidence_fetch",
    "evidence_notify",
    "evidence_recheck",
    "evidence_recheck_due",
    "evidence_retrieve",
    "evidence_standing_for",
]


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


# --- Fetching -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Retrieval:
    """The outcome of one fetch of an evidence link."""

    ok: bool
    sha256: str = ""
    size: int | None = None
    content_type: str = ""
    detail: str = ""
    fetched: FetchResult | None = None  # what was received, for the archive's WARC record


def evidence_retrieve(url: str, pool: FetchPool | None = None) -> Retrieval:
    """Fetch `url` once under the evidence limits (on a connection of `pool` when one to the same
    checked address is open, badges.fetch). Never raises for a bad link: says why instead."""
    limit = int(settings.EVIDENCE_MAX_BYTES)
    try:
        result = fetch(url, timeout=float(settings.EVIDENCE_FETCH_TIMEOUT), max_bytes=limit,
                       allow_loopback=bool(settings.EVIDENCE_ALLOW_LOOPBACK), truncate=True, max_redirects=3,
                       pool=pool)
    except FetchError as error:
        return Retrieval(False, detail=error.message)
    detail = ""
    if result.truncated:
        detail = _("The evidence is larger than %(limit)s bytes; only its first %(limit)s bytes were read and "
                   "hashed.") % {"limit": f"{limit:,}"}
    return Retrieval(True, sha256=hashlib.sha256(result.body).hexdigest(), size=len(result.body),
                     content_type=result.content_type[:200], detail=detail, fetched=result)


def _archive(check: EvidenceCheck, outcome: Retrieval, now: datetime) -> None:
    """Keep the content that became the baseline as a WARC record (badges.archive), once per award."""
    from badges.archive import archive_fetched_page

    if outcome.fetched is not None and check.retrieved_at == now:
        archive_fetched_page(check.award_id, outcome.fetched, taken_at=now)


# --- Fetching before signing ---------------------------------------------------------------------
@dataclass(frozen=True)
class LinkSnapshot:
    """An award's evidence link fetched just before its credential is signed: the outcome (the
    first fetch, the baseline of later re-checks) and, when it answered, its WARC record planned
    for the archive, whose URL and digest the credential then carries (`relatedResource`)."""

    url: str
    outcome: Retrieval
    fetched_at: datetime
    copy: PlannedCopy | None


def link_snapshot(url: str, pool: FetchPool | None = None) -> LinkSnapshot:
    """Fetch one evidence link under the evidence limits (EVIDENCE_FETCH_TIMEOUT in all) and plan
    its WARC copy. Never raises for a bad link: the snapshot says why, and has no copy."""
    outcome = evidence_retrieve(url, pool)
    now = timezone.now().replace(microsecond=0)
    copy = web_copy_plan(outcome.fetched, url=url, taken_at=now) if outcome.ok and outcome.fetched else None
    return LinkSnapshot(url, outcome, now, copy)


def links_snapshot(urls: Sequence[str]) -> dict[str, LinkSnapshot]:
    """`link_snapshot` of each distinct link (the same link twice is fetched once), FETCH_CONCURRENCY
    at a time (a batch chunk of 100 rows whose links all time out waits about 100 / 8 ×
    EVIDENCE_FETCH_TIMEOUT, well within the broker's visibility timeout). The threads only fetch: no
    database access. They share one `FetchPool`: each host resolved and checked once for the chunk,
    and links on the same host (an LMS's pages, typically) reuse its kept-alive connections."""
    distinct = list(dict.fromkeys(u for u in urls if u))
    if not distinct:
        return {}
    with FetchPool() as connections:
        if len(distinct) == 1:
            snapshots = [_snapshot_or_none(distinct[0], connections)]
        else:
            workers = max(1, min(int(settings.FETCH_CONCURRENCY), len(distinct)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="evidence-fetch") as threads:
                snapshots = list(threads.map(lambda url: _snapshot_or_none(url, connections), distinct))
    return {url: snapshot for url, snapshot in zip(distinct, snapshots, strict=True) if snapshot is not None}


def _snapshot_or_none(url: str, pool: FetchPool | None = None) -> LinkSnapshot | None:
    """`link_snapshot`, or None when it broke in a way no bad link explains (logged): that award is
    then signed without the copy and its link fetched after commit, as before (`after_issue`),
    and the other links go on."""
    try:
        return link_snapshot(url, pool)
    except Exception:
        log.exception("the fetch before signing of the evidence link %s failed", url)
        return None


def evidence_checks_from_snapshots(awards: Sequence[Award], snapshots: Mapping[str, LinkSnapshot]
                                   ) -> list[EvidenceCheck]:
    """Inside the issuing transaction: the EvidenceCheck of each new award whose link was fetched
    before signing, with that first fetch as its baseline (reachable) or as gone, so nothing fetches
    it again. A link that did not answer is left to tell the organisation (`notified_standing` is
    empty), through `evidence_notify` as for any first fetch that failed."""
    rows = []
    for award in awards:
        snapshot = snapshots.get(award.evidence_url) if award.evidence_url else None
        if snapshot is None:
            continue
        outcome, when = snapshot.outcome, snapshot.fetched_at
        if outcome.ok:
            rows.append(EvidenceCheck(
                award=award, url=award.evidence_url, sha256=outcome.sha256, size=outcome.size,
                content_type=outcome.content_type, retrieved_at=when, last_checked_at=when, detail=outcome.detail,
                standing=Standing.REACHABLE, notified_standing=Standing.REACHABLE))
        else:
            rows.append(EvidenceCheck(award=award, url=award.evidence_url, last_checked_at=when,
                                      detail=outcome.detail, standing=Standing.GONE))
    created = EvidenceCheck.objects.bulk_create(rows)
    webhooks_for_first_fetches(created, before=Standing.PENDING)  # as `evidence_fetch` reports a first fetch
    return created


# --- Creating and the first fetch -------------------------------------------------------------------
def evidence_check_create(award: Award) -> EvidenceCheck | None:
    """For the award service, inside its transaction on issue: create the award's EvidenceCheck and
    fetch the link once after commit. None when the award has no evidence URL. Safe to repeat: one
    row per award, and only its creation enqueues a fetch."""
    if not award.evidence_url:
        return None
    check, created = EvidenceCheck.objects.get_or_create(award=award, defaults={"url": award.evidence_url})
    if created:
        enqueue_on_commit("badges.tasks.fetch_evidence", award.pk)
    return check


def evidence_fetch(award_id: int, *, notify: bool = True, pool: FetchPool | None = None) -> EvidenceCheck | None:
    """The first fetch of an award's evidence link (outside any transaction: it waits on the network).
    Idempotent: a check fetched before is returned untouched, and of two workers fetching at once
    only the first result is stored (a conditional UPDATE). A first fetch that fails is told to the
    organisation (unless `notify` is false: a batch's fetches are told in one message, see
    `evidence_notify_batch`); a successful one is the baseline and tells nobody."""
    check = EvidenceCheck.objects.filter(award_id=award_id).first()
    if check is None:
        award = Award.objects.filter(pk=award_id).first()
        if award is None or not award.evidence_url:
            return None
        check, _created = EvidenceCheck.objects.get_or_create(award=award, defaults={"url": award.evidence_url})
    if check.last_checked_at is not None:
        return check
    outcome = evidence_retrieve(check.url, pool)
    now = timezone.now()
    fields: dict = {"last_checked_at": now, "detail": outcome.detail}
    if outcome.ok:
        fields.update(sha256=outcome.sha256, size=outcome.size, content_type=outcome.content_type,
                      retrieved_at=now, standing=Standing.REACHABLE, notified_standing=Standing.REACHABLE)
    else:
        fields.update(standing=Standing.GONE)
    fetched = EvidenceCheck.objects.filter(pk=check.pk, last_checked_at__isnull=True).update(**fields)
    check.refresh_from_db()
    if fetched:
        _standing_webhooks(check, before=Standing.PENDING)
    _archive(check, outcome, now)
    if notify and check.standing != check.notified_standing:
        evidence_notify(organisation_id=Award.objects.values_list("organisation_id", flat=True).get(pk=award_id))
    return check


def evidence_notify_batch(batch_id: int) -> int:
    """One message for a whole batch's first fetches: sent once the batch has finished issuing and
    every evidence link of its awards has been fetched once (whichever comes last calls this; both
    may, and the second sends nothing). Links whose first fetch broke stay unfetched until the beat's
    re-check, which then tells the organisation. Returns how many messages were sent (0 or 1)."""
    from badges.models import AwardBatch

    batch = AwardBatch.objects.filter(pk=batch_id).select_related("programme").first()
    if batch is None or batch.state not in (AwardBatch.State.DONE, AwardBatch.State.FAILED):
        return 0
    if EvidenceCheck.objects.filter(award__batch_id=batch_id, last_checked_at__isnull=True).exists():
        return 0
    return evidence_notify(organisation_id=batch.programme.organisation_id, batch_id=batch_id)


# --- Re-checking ----------------------------------------------------------------------------------
def evidence_recheck(check_id: int) -> EvidenceCheck | None:
    """Fetch one stored link again and set its standing against the baseline. Does not mail (see
    `evidence_notify`). If another worker re-checked it meanwhile, its result stands."""
    check = EvidenceCheck.objects.filter(pk=check_id).first()
    if check is None:
        return None
    if check.last_checked_at is None:
        return evidence_fetch(check.award_id)
    outcome = evidence_retrieve(check.url)
    now = timezone.now()
    fields: dict = {"last_checked_at": now}
    if not outcome.ok:
        fields.update(standing=Standing.GONE, detail=outcome.detail)
    elif not check.sha256:
        # Never retrieved before (the first fetch failed): this content becomes the baseline.
        fields.update(sha256=outcome.sha256, size=outcome.size, content_type=outcome.content_type,
                      retrieved_at=now, standing=Standing.REACHABLE, detail=outcome.detail)
    elif outcome.sha256 == check.sha256:
        fields.update(standing=Standing.REACHABLE, detail=outcome.detail)
    else:
        fields.update(standing=Standing.CHANGED, detail=_(
            "The content differs from what was retrieved on %(when)s: it is now %(size)s bytes of %(type)s with "
            "SHA-256 %(sha)s (was %(old_size)s bytes, SHA-256 %(old_sha)s)."
        ) % {"when": _when(check.retrieved_at), "size": f"{outcome.size:,}", "type": outcome.content_type or "?",
             "sha": outcome.sha256, "old_size": f"{check.size or 0:,}", "old_sha": check.sha256})
    before = check.standing
    rechecked = EvidenceCheck.objects.filter(pk=check.pk, last_checked_at=check.last_checked_at).update(**fields)
    check.refresh_from_db()
    if rechecked:
        _standing_webhooks(check, before=before)
    _archive(check, outcome, now)
    return check


def _standing_webhooks(check: EvidenceCheck, *, before: str) -> None:
    """The organisation's webhooks of a link whose standing changed (webhooks.events)."""
    if check.standing != before:
        with transaction.atomic():
            webhooks_for_evidence(check, before=before)


def evidence_recheck_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Re-check the links whose last check is older than EVIDENCE_RECHECK_INTERVAL (never-checked
    and oldest first, at most `limit`, by default EVIDENCE_RECHECK_BATCH), then tell organisations of
    every change. Revoked awards are left alone. Safe to repeat: a link just checked is not due
    again, and each change is mailed once. Returns how many links were checked."""
    now = now or timezone.now()
    limit = limit or int(settings.EVIDENCE_RECHECK_BATCH)
    due = (
        EvidenceCheck.objects.filter(award__revoked_at__isnull=True)
        .filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=now - settings.EVIDENCE_RECHECK_INTERVAL))
        .order_by(F("last_checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )
    checked = 0
    for pk in list(due):
        evidence_recheck(pk)
        checked += 1
    evidence_notify()
    return checked


# --- Telling the organisation ---------------------------------------------------------------------
def _recipients(organisation: Organisation) -> list[str]:
    staff = StaffMember.objects.filter(organisation=organisation, role__in=CAN_EDIT).exclude(user__email="")
    return sorted({organisation.contact_email, *staff.values_list("user__email", flat=True)} - {""})


def _line(check: EvidenceCheck) -> str:
    award = check.award
    lines = [
        "- " + _("%(programme)s → %(recipient)s (award %(award)s)") % {
            "programme": award.programme, "recipient": award.recipient_name or award.recipient_email
            or award.recipient_did, "award": award.public_id},
        f"  {check.url}",
    ]
    if check.notified_standing:
        lines.append("  " + _("%(before)s → %(after)s, checked %(when)s.") % {
            "before": Standing(check.notified_standing).label, "after": check.get_standing_display(),
            "when": _when(check.last_checked_at)})
    else:
        lines.append("  " + _("Could not be retrieved when the badge was issued (%(when)s).")
                     % {"when": _when(check.last_checked_at)})
    if check.detail:
        lines.append(f"  {check.detail}")
    return "\n".join(lines)


def _evidence_mail(organisation: Organisation, rows: list[EvidenceCheck], language: str) -> tuple[str, str]:
    """The subject and body telling an organisation of its evidence links whose standing changed, in
    `language` (the links' details are stored words and stay as they were written)."""
    with translation.override(language):
        first = [row for row in rows if not row.notified_standing]
        again = [row for row in rows if row.notified_standing]
        site = settings.SITE_URL.split("://", 1)[-1]
        if again:
            subject = _("[%(site)s] Evidence links of %(count)d badge(s) changed") % {
                "site": site, "count": len(rows)}
        else:
            subject = _("[%(site)s] Evidence links of %(count)d new badge(s) could not be retrieved") % {
                "site": site, "count": len(rows)}
        parts: list[str] = []
        if first:
            parts += [_("The evidence links of these badges issued by %(organisation)s could not be "
                        "retrieved when the badges were issued; the server will try them again later:")
                      % {"organisation": local_name(organisation)}, *(_line(row) for row in first),
                      _("These badges were signed without an archived copy of their evidence link: "
                        "the evidence entry names the link only. To have a copy bound into the badge, "
                        "make the link reachable and award the badge again, or attach the evidence as "
                        "a file.")]
        if again:
            parts += [_("The evidence links of these badges issued by %(organisation)s were checked again "
                        "and their standing changed:") % {"organisation": local_name(organisation)},
                      *(_line(row) for row in again)]
        body = "\n\n".join([
            *parts,
            _("Reachable: the content is what it was when the badge was issued. Changed: the link "
              "answers, with other content. Gone: the link no longer answers."),
            settings.SITE_URL + "/",
        ])
    return subject, body


def evidence_notify(*, organisation_id: int | None = None, batch_id: int | None = None) -> int:
    """Mail each organisation one message listing its evidence links whose standing changed since
    last told (only a batch's, with `batch_id`), then record what it was told (`notified_standing`).
    Links fetched for the first time and links checked again are listed apart. The rows are locked
    while the mail goes out: if sending fails nothing is recorded and the next run tries again; a
    second run sends nothing. One message per language its readers read (institutions.staff.
    staff_mail_groups). Returns how many messages were sent."""
    changed = EvidenceCheck.objects.exclude(standing=F("notified_standing")).exclude(standing=Standing.PENDING)
    if organisation_id is not None:
        changed = changed.filter(award__organisation_id=organisation_id)
    if batch_id is not None:
        changed = changed.filter(award__batch_id=batch_id)
    sent = 0
    for org_id in sorted(set(changed.values_list("award__organisation_id", flat=True))):
        with transaction.atomic():
            rows = [
                row for row in EvidenceCheck.objects.select_for_update(of=("self",))
                .filter(pk__in=changed.filter(award__organisation_id=org_id).values("pk"))
                .select_related("award__programme", "award__organisation").order_by("pk")
                if row.standing != row.notified_standing
            ]
            if not rows:
                continue
            organisation = rows[0].award.organisation
            groups = staff_mail_groups(_recipients(organisation))
            for language, recipients in groups:
                subject, body = _evidence_mail(organisation, rows, language)
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
            sent += len(groups)
            for row in rows:
                EvidenceCheck.objects.filter(pk=row.pk).update(notified_standing=row.standing)
    return sent


# --- Reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvidenceStanding:
    """What the registry and the verification report say about an award's evidence link."""

    url: str
    standing: str
    label: str
    retrieved_at: datetime | None
    last_checked_at: datetime | None
    sha256: str
    size: int | None
    content_type: str
    detail: str

    @property
    def message(self) -> str:
        values = {"url": self.url, "retrieved": _when(self.retrieved_at), "checked": _when(self.last_checked_at),
                  "sha": self.sha256, "detail": self.detail}
        if self.standing == Standing.REACHABLE:
            text = _("The evidence at %(url)s was retrieved on %(retrieved)s (SHA-256 %(sha)s) and was unchanged "
                     "when last checked on %(checked)s.") % values
            return f"{text} {self.detail}".strip()
        if self.standing == Standing.CHANGED:
            return _("The evidence at %(url)s has changed since it was retrieved on %(retrieved)s. %(detail)s") \
                % values
        if self.standing == Standing.GONE:
            return _("The evidence at %(url)s could not be retrieved when checked on %(checked)s: %(detail)s") % values
        return _("The evidence at %(url)s has not been retrieved yet.") % values


def evidence_standing_for(award: Award) -> EvidenceStanding | None:
    """The standing of an award's evidence link; None when the award has no evidence URL."""
    if not award.evidence_url:
        return None
    check = EvidenceCheck.objects.filter(award=award).first()
    if check is None:
        return EvidenceStanding(award.evidence_url, Standing.PENDING, Standing.PENDING.label, None, None, "", None,
                                "", "")
    return EvidenceStanding(check.url, check.standing, check.get_standing_display(), check.retrieved_at,
                            check.last_checked_at, check.sha256, check.size, check.content_type, check.detail)
