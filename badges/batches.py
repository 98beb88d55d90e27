"""Awarding many badges at once: a JSON list or a CSV file, checked row by row, then issued by
chunked Celery tasks that several workers can share.

Policy: a batch with any bad row is refused whole. Every error is reported (CSV line number, or
index in the JSON list, and the field) and nothing at all is written or issued, so a corrected
upload can simply be sent again without creating duplicates of the rows that were good.

A valid batch is stored (`AwardBatch.rows`) and split into chunks of CHUNK_SIZE rows, one task
each. A chunk issues only its rows that have no award yet; the unique constraint on (batch,
batch_row) keeps a chunk that runs twice, even at the same time on two workers, from issuing a row
twice. Progress is the count of the batch's awards, written after each chunk.

A batch whose chunk messages are lost (a worker killed whole before the broker's visibility
timeout gives them to another, a broker restarted without its data, an enqueue that failed) stops
progressing; after BATCH_STALL_SECONDS without a chunk committing it is stalled, and the recovery
sweep (`award_batches_resume_stalled`, badges.recovery) or its owner (`award_batch_restart`)
enqueues its unfinished chunks again.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from badges.awards import (
    AwardSigner,
    Recipient,
    after_issue,
    award_insert,
    check_can_issue,
    endorsement_for_awarding,
    recipient_clean,
)
from badges.evidence import evidence_notify_batch
from badges.models import Award, AwardBatch, Programme, StatusPurpose
from badges.status import status_allocate_many
from config.errors import InvalidInput, NotFound, WrongState
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from endorsement.credentials import endorsement_in_force
from institutions.permissions import UserLike, is_member_of

CHUNK_SIZE = 100
MAX_ROWS = 10_000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

# Accepted names of each column (CSV header) or key (JSON object), case-insensitive.
ALIASES = {
    "recipient_email": ("email", "recipient_email"),
    "recipient_did": ("did", "recipient_did"),
    "recipient_name": ("name", "recipient_name"),
    "evidence_url": ("evidence_url",),
    "evidence_narrative": ("evidence_narrative",),
}
_FIELD_OF = {alias: field for field, aliases in ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class BatchRow:
    """One uploaded row: where it came from (for messages) and its values by field."""

    where: str  # "line 4" (CSV) or "rows[3]" (JSON)
    values: dict[str, Any]
    names: dict[str, str]  # field -> the column or key name the uploader used


def _error_key(where: str, name: str) -> str:
    return f"{where}.{name}"


# --- parsing --------------------------------------------------------------------------------------
def rows_from_json(data: Any) -> list[BatchRow]:
    """Rows from a parsed JSON body: a list of objects, or {"rows": [...]}. Keys as in ALIASES."""
    if isinstance(data, dict) and set(data) == {"rows"}:
        data = data["rows"]
    if not isinstance(data, list):
        raise InvalidInput(_("Send a JSON list of recipients (or an object with a \"rows\" list)."),
                           field_errors={"rows": [_("Expected a list.")]})
    rows, errors = [], {}
    for index, item in enumerate(data):
        where = f"rows[{index}]"
        if not isinstance(item, dict):
            errors[where] = [_("Item %(i)d is not an object.") % {"i": index}]
            continue
        values, names = {}, {}
        for key, value in item.items():
            field = _FIELD_OF.get(str(key).strip().lower())
            if field is None:
                errors.setdefault(_error_key(where, str(key)), []).append(_("Unknown key."))
            elif field in values:
                errors.setdefault(_error_key(where, str(key)), []).append(_("Given twice."))
            else:
                values[field], names[field] = value, str(key)
        rows.append(BatchRow(where, values, names))
    if errors:
        raise InvalidInput(_batch_refused(len(errors)), field_errors=errors)
    return rows


def json_text_rows(text: str | bytes) -> list[BatchRow]:
    try:
        data = json.loads(text.decode("utf-8-sig") if isinstance(text, bytes) else text)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(_("The file is not valid JSON: %(error)s") % {"error": error},
                           field_errors={"file": [_("Not valid JSON.")]}) from None
    return rows_from_json(data)


def rows_from_csv(content: bytes | str) -> list[BatchRow]:
    """Rows of a CSV file (UTF-8, a byte-order mark allowed) with a header naming the columns
    (email or did, name, evidence_url, evidence_narrative). Blank lines are skipped; each row is
    reported by the file line it starts on."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(_("The CSV file must be UTF-8 text."),
                               field_errors={"file": [_("Not UTF-8 text.")]}) from None
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput(_("The CSV file is empty."), field_errors={"file": [_("The file is empty.")]})
        fields, errors = [], {}
        for column in header:
            field = _FIELD_OF.get(column.strip().lower())
            if field is None or field in fields:
                errors.setdefault(_error_key("line 1", column), []).append(
                    _("Unknown or repeated column: use email or did, name, evidence_url, evidence_narrative."))
            fields.append(field)
        if errors:
            raise InvalidInput(_("The CSV header is not right: nothing was issued."), field_errors=errors)
        rows, line = [], reader.line_num + 1
        for record in reader:
            where, line = f"line {line}", reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                errors[where] = [_("%(n)d cells where the header has %(m)d.") % {"n": len(record), "m": len(header)}]
                continue
            rows.append(BatchRow(where, dict(zip(fields, record, strict=True)),
                                 {f: c.strip() for f, c in zip(fields, header, strict=True)}))
    except csv.Error as error:
        raise InvalidInput(_("The CSV file is malformed near line %(n)d: %(error)s") % {
            "n": reader.line_num, "error": error}, field_errors={"file": [str(error)]}) from None
    if errors:
        raise InvalidInput(_batch_refused(len(errors)), field_errors=errors)
    return rows


def rows_from_upload(content: bytes) -> list[BatchRow]:
    """A file of either kind, told apart by content: JSON starts with [ or {, anything else is CSV."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput(_("The file is too large (at most %(n)d MB).") % {"n": MAX_UPLOAD_BYTES // 2**20},
                           field_errors={"file": [_("Too large.")]})
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return json_text_rows(content) if head in (b"[", b"{") else rows_from_csv(content)


# --- validation -----------------------------------------------------------------------------------
def _batch_refused(count: int) -> str:
    return ngettext("%(n)d row of the batch has errors: nothing was issued. Correct it and upload the whole "
                    "batch again.",
                    "%(n)d rows of the batch have errors: nothing was issued. Correct them and upload the whole "
                    "batch again.", count) % {"n": count}


def rows_validate(rows: Sequence[BatchRow]) -> list[Recipient]:
    """Every row checked as a single award would be, and the same learner twice refused; any error
    refuses the whole batch (InvalidInput keyed "line 4.email" or "rows[3].evidence_url")."""
    if not rows:
        raise InvalidInput(_("The batch has no rows."), field_errors={"rows": [_("Give at least one recipient.")]})
    if len(rows) > MAX_ROWS:
        raise InvalidInput(_("A batch holds at most %(n)d rows; split it.") % {"n": MAX_ROWS},
                           field_errors={"rows": [_("Too many rows.")]})
    recipients, errors, seen = [], {}, {}
    for row in rows:
        recipient, row_errors = recipient_clean(row.values)
        for field, messages in row_errors.items():
            errors[_error_key(row.where, row.names.get(field, field))] = messages
        if recipient is None:
            continue
        if recipient.key in seen:
            field = "recipient_did" if recipient.did else "recipient_email"
            errors[_error_key(row.where, row.names.get(field, field))] = [
                _("The same learner as %(where)s.") % {"where": seen[recipient.key]}]
        seen.setdefault(recipient.key, row.where)
        recipients.append(recipient)
    if errors:
        raise InvalidInput(_batch_refused(len({key.split(".")[0] for key in errors})), field_errors=errors)
    return recipients


# --- services -------------------------------------------------------------------------------------
def award_batch_create(*, actor: UserLike, programme: Programme, rows: Sequence[BatchRow]) -> AwardBatch:
    """Check every row, store the batch and, after commit, start its chunk tasks. Refused with
    nothing written: not an issuer of the programme's organisation (403/404), any bad row (400),
    no endorsement in force (409)."""
    check_can_issue(actor, programme.organisation)
    recipients = rows_validate(rows)
    with transaction.atomic():
        endorsement_for_awarding(programme)
        batch = AwardBatch.objects.create(
            programme=programme, created_by=actor, total=len(recipients),
            rows=[{**r.as_row(), "where": row.where} for r, row in zip(recipients, rows, strict=True)],
        )
        audit_record(actor=actor, action=AuditAction.AWARD_BATCH_CREATED, subject=batch,
                     data={"programme": str(programme.public_id), "rows": batch.total})
        award_batch_start(batch)
    return batch


def award_batch_start(batch: AwardBatch, chunks: Sequence[tuple[int, int]] | None = None) -> None:
    """Enqueue one task per chunk (all of them, or the `chunks` given), after commit. Safe to repeat:
    chunks skip issued rows."""
    if chunks is None:
        chunks = [(start, min(start + CHUNK_SIZE, batch.total)) for start in range(0, batch.total, CHUNK_SIZE)]
    for start, end in chunks:
        enqueue_on_commit("badges.tasks.issue_award_batch_chunk", batch.pk, start, end)


def award_batch_unfinished_chunks(batch: AwardBatch) -> list[tuple[int, int]]:
    """The chunks of a batch that still have a row with no award."""
    issued = set(Award.objects.filter(batch=batch).values_list("batch_row", flat=True))
    return [(start, min(start + CHUNK_SIZE, batch.total)) for start in range(0, batch.total, CHUNK_SIZE)
            if any(row not in issued for row in range(start, min(start + CHUNK_SIZE, batch.total)))]


def award_batch_issue_chunk(batch_id: int, start: int, end: int) -> int:
    """Issue rows [start, end) of a batch that have no award yet; returns how many were issued now.
    Safe to repeat and to run on several workers at once. The batch fails (and stops) if the
    endorsement is no longer in force."""
    batch = AwardBatch.objects.select_related("programme__organisation", "created_by").get(pk=batch_id)
    if batch.state in (AwardBatch.State.DONE, AwardBatch.State.FAILED):
        return 0
    AwardBatch.objects.filter(pk=batch.pk, state=AwardBatch.State.PENDING).update(state=AwardBatch.State.RUNNING)
    end = min(end, batch.total)
    issued = set(Award.objects.filter(batch=batch, batch_row__gte=start, batch_row__lt=end)
                 .values_list("batch_row", flat=True))
    todo = [(i, Recipient.from_row(batch.rows[i])) for i in range(start, end) if i not in issued]
    saved: list[Award] = []
    if todo:
        programme = batch.programme
        endorsement = endorsement_in_force(programme.pk)
        if endorsement is None:
            award_batch_fail(batch.pk, _("The endorsement of the programme is no longer in force: the rest of the "
                                         "batch was not issued."))
            return 0
        signer = AwardSigner(programme, endorsement, batch.created_by)
        # Entries are allocated in their own short transaction so the organisation's lock is not
        # held while signing: chunks of one batch on several workers then sign in parallel.
        allocations = status_allocate_many(programme.organisation, StatusPurpose.REVOCATION, len(todo))
        awards = [signer.award(recipient, allocation, batch_id=batch.pk, batch_row=row)
                  for (row, recipient), allocation in zip(todo, allocations, strict=True)]
        with transaction.atomic():
            saved = award_insert(awards)
            after_issue(saved)
    award_batch_progress(batch.pk)
    return len(saved)


def award_batch_progress(batch_id: int) -> None:
    """Write the batch's issued count from its awards (never lowering it: a chunk's count taken
    before another's commit must not undo it) and mark it done when complete."""
    count = Award.objects.filter(batch_id=OuterRef("pk")).order_by().values("batch_id").annotate(n=Count("id"))
    issued = Coalesce(Subquery(count.values("n")), 0)
    AwardBatch.objects.filter(pk=batch_id).update(issued=Greatest(F("issued"), issued), progressed_at=timezone.now())
    done = AwardBatch.objects.filter(
        pk=batch_id, state__in=[AwardBatch.State.PENDING, AwardBatch.State.RUNNING], issued__gte=F("total")
    ).update(state=AwardBatch.State.DONE, finished_at=timezone.now())
    if done:
        # The evidence fetches may all have finished before the batch did: then they left the one
        # message for the batch to this (evidence_notify_batch sends it once, whoever calls last).
        evidence_notify_batch(batch_id)


def award_batch_fail(batch_id: int, error: str) -> None:
    """Record why a batch stopped, where its page shows it. A finished batch stays finished."""
    AwardBatch.objects.filter(pk=batch_id).exclude(state=AwardBatch.State.DONE).update(
        state=AwardBatch.State.FAILED, error=error[:2000], finished_at=timezone.now())


def award_batch_of_staff(actor: UserLike, public_id: Any) -> AwardBatch:
    """A batch for its organisation's staff; anyone else's answers 404."""
    batch = AwardBatch.objects.select_related("programme__organisation").filter(public_id=public_id).first()
    if batch is None or not is_member_of(actor, batch.programme.organisation):
        raise NotFound(_("No such batch."))
    return batch


BATCH_PAGE_ROWS = 100


@dataclass(frozen=True)
class BatchRowView:
    """One row of a batch as its page lists it: position, the learner, and its award once issued."""

    number: int  # 1-based, as the page numbers rows
    where: str  # where the row came from in the upload ("line 3", "rows[2]")
    name: str
    email: str
    did: str
    award: Award | None

    @property
    def learner(self) -> str:
        return self.name or self.email or self.did


def award_batch_rows(batch: AwardBatch, start: int, end: int) -> list[BatchRowView]:
    """Rows [start, end) of the batch, each with its award if it has been issued (one query)."""
    end = min(end, len(batch.rows))
    awards = {a.batch_row: a for a in Award.objects.filter(batch=batch, batch_row__gte=start, batch_row__lt=end)
              .only("id", "public_id", "batch_row", "recipient_name", "recipient_email", "recipient_did")}
    return [
        BatchRowView(number=i + 1, where=str(row.get("where", "")), name=row.get("recipient_name", ""),
                     email=row.get("recipient_email", ""), did=row.get("recipient_did", ""), award=awards.get(i))
        for i, row in enumerate(batch.rows[start:end], start=start)
    ]


def award_batch_restart(*, actor: UserLike, batch: AwardBatch) -> AwardBatch:
    """Start a failed batch again (after the endorsement is reinstated, say), or resume a stalled
    one (pending or running with no progress for BATCH_STALL_SECONDS: its tasks were lost with a
    worker or the broker). Only the rows with no award are issued."""
    check_can_issue(actor, batch.programme.organisation)
    with transaction.atomic():
        batch = AwardBatch.objects.select_for_update().select_related("programme__organisation").get(pk=batch.pk)
        if batch.state != AwardBatch.State.FAILED and not batch.stalled:
            if batch.state == AwardBatch.State.DONE:
                raise WrongState(_("This batch is complete: every row has its badge."))
            raise WrongState(_("This batch is in progress: it can be resumed only when no badge has been awarded "
                               "for %(n)d seconds.") % {"n": settings.BATCH_STALL_SECONDS})
        endorsement_for_awarding(batch.programme)
        before = batch.state
        chunks = award_batch_unfinished_chunks(batch)
        batch.state, batch.error, batch.finished_at = AwardBatch.State.RUNNING, "", None
        batch.progressed_at = timezone.now()
        batch.save(update_fields=["state", "error", "finished_at", "progressed_at"])
        audit_record(actor=actor, action=AuditAction.AWARD_BATCH_RESTARTED, subject=batch,
                     from_state=before, to_state=batch.state,
                     data={"programme": str(batch.programme.public_id), "rows": batch.total,
                           "chunks": len(chunks)})
        award_batch_start(batch, chunks)
    if not chunks:
        award_batch_progress(batch.pk)  # every row was issued: only the count was behind
    return AwardBatch.objects.select_related("programme__organisation").get(pk=batch.pk)


def award_batches_resume_stalled(*, limit: int = 50) -> int:
    """The sweep: resume every stalled batch (pending or running, no chunk committed for
    BATCH_STALL_SECONDS) by enqueuing its unfinished chunks again, recorded in the audit trail. A
    batch resumed waits another BATCH_STALL_SECONDS before it can be resumed again, so a slow
    queue costs repeated (harmless) chunk runs, never a row twice. Returns how many were resumed."""
    limit_at = timezone.now() - timedelta(seconds=settings.BATCH_STALL_SECONDS)
    candidates = list(AwardBatch.objects.filter(
        state__in=[AwardBatch.State.PENDING, AwardBatch.State.RUNNING], progressed_at__lt=limit_at,
    ).order_by("progressed_at").values_list("pk", flat=True)[:limit])
    resumed = 0
    for pk in candidates:
        with transaction.atomic():
            batch = (AwardBatch.objects.select_for_update(skip_locked=True, of=("self",)).select_related("programme")
                     .filter(pk=pk, state__in=[AwardBatch.State.PENDING, AwardBatch.State.RUNNING],
                             progressed_at__lt=limit_at).first())
            if batch is None:
                continue
            chunks = award_batch_unfinished_chunks(batch)
            batch.progressed_at = timezone.now()
            batch.save(update_fields=["progressed_at"])
            audit_record(actor=None, action=AuditAction.AWARD_BATCH_RESUMED, subject=batch,
                         data={"programme": str(batch.programme.public_id), "rows": batch.total,
                               "issued": batch.issued, "chunks": len(chunks)})
            award_batch_start(batch, chunks)
        if not chunks:
            award_batch_progress(pk)
        resumed += 1
    return resumed
