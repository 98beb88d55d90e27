"""Awarding many badges at once: a JSON list or a CSV file, checked row by row, then issued by
chunked Celery tasks that several workers can share.

Policy: a batch with any bad row is refused whole. Every error is reported (CSV line number, or
index in the JSON list, and the field) and nothing at all is written or issued, so a corrected
upload can simply be sent again without creating duplicates of the rows that were good.

A valid batch is stored, one `AwardBatchRow` per row (a chunk reads its own CHUNK_SIZE rows by
position, never the whole upload), and split into chunks of CHUNK_SIZE rows, one task each. A
chunk issues only its rows that have no award yet; the unique constraint on (batch,
batch_row) keeps a chunk that runs twice, even at the same time on two workers, from issuing a row
twice. Progress is the count of the batch's awards, written after each chunk. The status lists
the batch's entries are on are published once when it finishes (and, debounced, every
STATUS_PUBLISH_DELAY_SECONDS while it runs: badges.status_publish), not after every chunk.

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
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from badges.archive import PlannedCopy, copies_save_many, new_files_removed_on_failure, new_token
from badges.awards import (
    AwardSigner,
    Recipient,
    after_issue,
    award_emails_plan,
    award_insert,
    check_can_issue,
    endorsement_for_awarding,
    recipient_clean,
)
from badges.batch_files import BatchZip, FileResolver, is_zip, references
from badges.evidence import LinkSnapshot, evidence_notify_batch, links_snapshot
from badges.models import Award, AwardBatch, AwardBatchRow, Programme, SourceEncoding, StatusPurpose
from badges.status import status_allocate_many
from badges.status_publish import status_lists_publish
from config.errors import InvalidInput, NotFound, WrongState
from config.i18n import visitor_language
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from endorsement.credentials import endorsement_in_force
from institutions.permissions import UserLike, is_member_of
from webhooks.events import webhooks_for_batch

CHUNK_SIZE = 100
MAX_ROWS = 10_000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

# The headers of the downloadable templates (`batch_template_csv`), and of the example on the page.
TEMPLATE_HEADERS = {
    "en": {"recipient_email": "email", "recipient_did": "did", "recipient_name": "name",
           "evidence_url": "evidence_url", "evidence_narrative": "evidence_narrative",
           "evidence_files": "evidence_files"},
    "ja": {"recipient_email": "メールアドレス", "recipient_did": "DID", "recipient_name": "氏名",
           "evidence_url": "エビデンスURL", "evidence_narrative": "エビデンスの説明",
           "evidence_files": "エビデンスファイル"},
}
TEMPLATE_LANGUAGES = tuple(TEMPLATE_HEADERS)
FIELDS = tuple(TEMPLATE_HEADERS["en"])

# Accepted names of each column (CSV header) or key (JSON object), compared after `_header_key`
# (NFKC, so full-width ＵＲＬ is URL; case and spaces ignored): the template's names in both
# languages and the other names an English or Japanese spreadsheet is likely to use.
ALIASES = {
    "recipient_email": ("email", "recipient_email", "e-mail", "mail",
                        "メールアドレス", "メール", "eメール", "eメールアドレス", "電子メール", "電子メールアドレス"),
    "recipient_did": ("did", "recipient_did", "学修者のDID"),
    "recipient_name": ("name", "recipient_name",
                       "氏名", "名前", "学修者名", "学修者の氏名", "学習者名", "受講者名", "受講者氏名"),
    "evidence_url": ("evidence_url", "evidence url",
                     "エビデンスURL", "エビデンスのURL", "証拠URL", "証拠のURL", "成果物URL"),
    "evidence_narrative": ("evidence_narrative", "evidence narrative",
                           "エビデンスの説明", "エビデンス説明", "証拠の説明", "証拠説明"),
    "evidence_files": ("evidence_files", "evidence_file", "evidence files", "evidence file", "files",
                       "エビデンスファイル", "証拠ファイル", "添付ファイル", "ファイル"),
    # Optional, not in the templates: the language of the learner's mails (badges.mail_language).
    "recipient_language": ("language", "recipient_language", "mail_language", "言語", "メールの言語", "使用言語"),
}


def _header_key(name: str) -> str:
    """A header or key as compared with ALIASES: NFKC-normalised, spaces removed, case folded."""
    return "".join(unicodedata.normalize("NFKC", name).split()).casefold()


_FIELD_OF = {_header_key(alias): field for field, aliases in ALIASES.items() for alias in aliases}

# The field's name in messages ("Line 3, e-mail: …" / 「3行目：メールアドレス — …」).
FIELD_WORDS = {
    "recipient_email": pgettext_lazy("batch column", "e-mail"),
    "recipient_did": pgettext_lazy("batch column", "DID"),
    "recipient_name": pgettext_lazy("batch column", "name"),
    "evidence_url": pgettext_lazy("batch column", "evidence URL"),
    "evidence_narrative": pgettext_lazy("batch column", "evidence narrative"),
    "evidence_files": pgettext_lazy("batch column", "evidence files"),
    "recipient_language": pgettext_lazy("batch column", "language"),
}

_CP932_STRAYS = re.compile("[\u0080\uf8f0-\uf8f3]")

BOMS = ((b"\xef\xbb\xbf", SourceEncoding.UTF_8_BOM), (b"\xff\xfe", SourceEncoding.UTF_16),
        (b"\xfe\xff", SourceEncoding.UTF_16))


def field_of(name: str) -> str | None:
    """The field a column header or JSON key names (any alias of ALIASES), or None."""
    return _FIELD_OF.get(_header_key(name))


def columns_hint() -> str:
    """The columns a batch takes, English name and Japanese name: "email (メールアドレス), …"."""
    pairs = [(TEMPLATE_HEADERS["en"][f], TEMPLATE_HEADERS["ja"][f]) for f in FIELDS] + [("language", "言語")]
    if visitor_language() == "ja":
        return "、".join(f"{ja}（{en}）" for en, ja in pairs)
    return ", ".join(f"{en} ({ja})" for en, ja in pairs)


@dataclass(frozen=True)
class BatchRow:
    """One uploaded row: where it came from (for messages) and its values by field."""

    where: str  # "line 4" (CSV) or "rows[3]" (JSON): the start of the machine-readable error path
    values: dict[str, Any]
    names: dict[str, str]  # field -> the column or key name the uploader used
    line: int | None = None  # the CSV line the row starts on
    index: int | None = None  # the JSON list index

    def place(self) -> str:
        return place_words(self.line, self.index)


@dataclass(frozen=True)
class ParsedUpload:
    """An uploaded file's rows and how its bytes were read (a SourceEncoding value; "" for JSON)."""

    rows: list[BatchRow]
    encoding: str = ""
    archive: BatchZip | None = None  # the zip the sheet came in, holding the evidence files it names


def place_words(line: int | None, index: int | None) -> str:
    """"Line 3" / 「3行目」 for a CSV line; "Item 4 (rows[3])" / 「4件目（rows[3]）」 for a JSON item."""
    if line is not None:
        return _("Line %(line)d") % {"line": line}
    if index is not None:
        return _("Item %(n)d (rows[%(i)d])") % {"n": index + 1, "i": index}
    return _("The file")


@dataclass(frozen=True)
class RowError:
    """One problem of an uploaded batch: the machine-readable path the API has always keyed errors
    by ("line 3.email", "rows[2].recipient_did", "line 2") and the facts to say it in words."""

    line: int | None
    index: int | None
    field: str | None  # the field (a key of ALIASES) the problem is in, None for a whole row or unknown column
    column: str | None  # the column header or JSON key as the uploader wrote it
    messages: tuple[str, ...]

    @property
    def path(self) -> str:
        where = f"line {self.line}" if self.line is not None else f"rows[{self.index}]"
        return f"{where}.{self.column}" if self.column is not None else where

    def where(self) -> str:
        """"Line 3, e-mail" / 「3行目：メールアドレス」."""
        place = place_words(self.line, self.index)
        if self.field is not None:
            return pgettext("batch error place", "%(place)s, %(field)s") % {
                "place": place, "field": FIELD_WORDS[self.field]}
        if self.column is not None:
            return pgettext("batch error place", "%(place)s, column “%(column)s”") % {
                "place": place, "column": self.column}
        return place

    def text(self) -> str:
        """"Line 3, e-mail: Enter a valid e-mail address…" / 「3行目：メールアドレス — 有効な…」."""
        return pgettext("batch error", "%(where)s: %(message)s") % {
            "where": self.where(), "message": " ".join(self.messages)}

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "index": self.index, "field": self.field,
                "column": self.column, "where": self.where(), "messages": list(self.messages),
                "text": self.text()}


def _refused(message: str, problems: Sequence[RowError], encoding: str = "") -> InvalidInput:
    """The error refusing a batch: `field_errors` keyed by path (as the API always answered) and
    `row_errors`, the same problems in words with their path, field and column, for people."""
    field_errors: dict[str, list[str]] = {}
    for problem in problems:
        field_errors.setdefault(problem.path, []).extend(problem.messages)
    details: dict[str, object] = {"row_errors": [p.as_json() for p in problems]}
    if encoding:
        message = sentences(message, read_as_words(encoding))
        details["file_encoding"] = encoding
    return InvalidInput(message, field_errors=field_errors, details=details)


def sentences(*parts: str) -> str:
    """Sentences one after the other: with a space in English, none in Japanese (「…。…。」)."""
    return ("" if visitor_language() == "ja" else " ").join(p for p in parts if p)


def read_as_words(encoding: str) -> str:
    """"The file was read as Shift_JIS (cp932)." in the visitor's language ("" for no encoding)."""
    if not encoding:
        return ""
    return _("The file was read as %(encoding)s.") % {"encoding": SourceEncoding(encoding).label}


# --- parsing --------------------------------------------------------------------------------------
def upload_decode(content: bytes) -> tuple[str, str]:
    """The text of an uploaded file and how it was read (a SourceEncoding value).

    What Excel writes: "CSV UTF-8" is UTF-8 with a byte-order mark; plain "CSV" on a Japanese
    Windows is Shift_JIS (Microsoft's cp932: JIS X 0208 plus NEC and IBM extensions such as ①, ㈱
    and 髙); "Unicode text" is UTF-16 with a BOM (tab-separated). No detector guesses: a BOM is
    believed; otherwise strict UTF-8, which almost never accepts Japanese text in cp932 (its lead
    bytes 0x81-0x9F and 0xE0-0xFC are not followed by the continuation bytes UTF-8 needs), then
    strict cp932. Anything neither decodes is refused, with where it failed (docs/api.md).
    """
    for bom, encoding in BOMS:
        if content.startswith(bom):
            try:
                return content.decode(encoding.value), encoding.value  # utf-8-sig and utf-16 drop the BOM
            except UnicodeDecodeError as error:
                raise _undecodable(error, encoding.label) from None
    try:
        return content.decode("utf-8"), SourceEncoding.UTF_8.value
    except UnicodeDecodeError as utf8_error:
        try:
            text = content.decode("cp932")
        except UnicodeDecodeError:
            raise _undecodable(utf8_error, None) from None
        # Python's cp932 maps the single bytes 0x80, 0xA0 and 0xFD-0xFF, which Excel never writes
        # and a Latin-1 or Windows-1252 file does (ÿ, a no-break space): not Shift_JIS after all.
        if _CP932_STRAYS.search(text):
            raise _undecodable(utf8_error, None) from None
        return text, SourceEncoding.CP932.value


def _undecodable(error: UnicodeDecodeError, label: Any) -> InvalidInput:
    line = error.object[:error.start].count(b"\n") + 1
    if label is None:
        message = _("The file cannot be read: near line %(line)d (byte %(byte)d) it is neither UTF-8 nor "
                    "Shift_JIS (cp932) text. In Excel, save it as “CSV UTF-8 (comma delimited)” or “CSV "
                    "(comma delimited)” and upload that file.") % {"line": line, "byte": error.start + 1}
    else:
        message = _("The file starts with a %(encoding)s byte-order mark but is not %(encoding)s text near line "
                    "%(line)d.") % {"encoding": label, "line": line}
    return InvalidInput(message, field_errors={"file": [message]}, details={"row_errors": []})


def rows_from_json(data: Any) -> list[BatchRow]:
    """Rows from a parsed JSON body: a list of objects, or {"rows": [...]}. Keys as in ALIASES."""
    if isinstance(data, dict) and set(data) == {"rows"}:
        data = data["rows"]
    if not isinstance(data, list):
        raise InvalidInput(_("Send a JSON list of recipients (or an object with a \"rows\" list)."),
                           field_errors={"rows": [_("Expected a list.")]})
    rows, problems = [], []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            message = _("Not an object: each item holds one learner's fields.")
            problems.append(RowError(None, index, None, None, (message,)))
            continue
        values, names = {}, {}
        for key, value in item.items():
            field = field_of(str(key))
            if field is None:
                problems.append(RowError(None, index, None, str(key), (_("Unknown key."),)))
            elif field in values:
                problems.append(RowError(None, index, None, str(key), (_("Given twice."),)))
            else:
                values[field], names[field] = value, str(key)
        rows.append(BatchRow(f"rows[{index}]", values, names, index=index))
    if problems:
        raise _refused(_batch_refused(len({p.index for p in problems})), problems)
    return rows


def json_text_rows(text: str | bytes) -> list[BatchRow]:
    try:
        data = json.loads(text.decode("utf-8-sig") if isinstance(text, bytes) else text)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(_("The file is not valid JSON: %(error)s") % {"error": error},
                           field_errors={"file": [_("Not valid JSON.")]}) from None
    return rows_from_json(data)


def rows_from_csv(content: bytes | str, encoding: str = "") -> list[BatchRow]:
    """Rows of a CSV file with a header naming the columns (English or Japanese names, ALIASES).
    Bytes are decoded by `upload_decode`; comma-separated, or tab-separated when the header has
    tabs and no comma (Excel's "Unicode text"). Blank lines are skipped; each row is reported by
    the file line it starts on."""
    if isinstance(content, bytes):
        content, encoding = upload_decode(content)
    content = content.lstrip("\ufeff")
    first_line = content.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput(_("The CSV file is empty."), field_errors={"file": [_("The file is empty.")]})
        fields: list[str | None] = []
        problems: list[RowError] = []
        for column in header:
            field = field_of(column)
            if field is None:
                problems.append(RowError(1, None, None, column, (
                    _("Unknown column. The columns are: %(columns)s.") % {"columns": columns_hint()},)))
            elif field in fields:
                problems.append(RowError(1, None, None, column, (
                    _("Repeated column: “%(column)s” and “%(other)s” are the same column.") % {
                        "column": column, "other": header[fields.index(field)]},)))
            fields.append(field)
        if not problems and "recipient_email" not in fields and "recipient_did" not in fields:
            problems.append(RowError(1, None, None, None, (
                _("The header has neither an e-mail (メールアドレス) nor a DID column: one of them names the "
                  "learner."),)))
        if problems:
            raise _refused(_("The CSV header is not right: nothing was issued."), problems, encoding)
        rows, line = [], reader.line_num + 1
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                problems.append(RowError(start, None, None, None, (
                    _("%(n)d cells where the header has %(m)d.") % {"n": len(record), "m": len(header)},)))
                continue
            rows.append(BatchRow(f"line {start}", dict(zip(fields, record, strict=True)),
                                 {f: c.strip() for f, c in zip(fields, header, strict=True) if f},
                                 line=start))
    except csv.Error as error:
        raise InvalidInput(_("The CSV file is malformed near line %(n)d: %(error)s") % {
            "n": reader.line_num, "error": error}, field_errors={"file": [str(error)]}) from None
    if problems:
        raise _refused(_batch_refused(len(problems)), problems, encoding)
    return rows


def rows_from_upload(content: bytes) -> ParsedUpload:
    """A file of any kind, told apart by content: a zip holds the sheet and the evidence files it
    names (badges.batch_files); JSON starts with [ or {, anything else is CSV (`upload_decode` says
    how its bytes were read)."""
    if is_zip(content):
        archive = BatchZip(content)
        name, sheet = archive.sheet(MAX_UPLOAD_BYTES)
        if is_zip(sheet):  # never a zip within a zip (a zip can even hold itself)
            message = _("“%(name)s” in the zip is itself a zip, not a CSV or JSON file.") % {"name": name}
            raise InvalidInput(message, field_errors={"file": [message]}, details={"row_errors": []})
        parsed = rows_from_upload(sheet)
        return ParsedUpload(parsed.rows, parsed.encoding, archive)
    if len(content) > MAX_UPLOAD_BYTES:
        raise InvalidInput(_("The file is too large (at most %(n)d MB).") % {"n": MAX_UPLOAD_BYTES // 2**20},
                           field_errors={"file": [_("Too large.")]})
    text, encoding = upload_decode(content)
    if text.lstrip("\ufeff \t\r\n")[:1] in ("[", "{"):
        return ParsedUpload(json_text_rows(text))
    return ParsedUpload(rows_from_csv(text, encoding), encoding)


def rows_from_text(text: str) -> list[BatchRow]:
    """Rows pasted into the portal's text box: JSON or CSV, as text (no encoding to tell)."""
    if text.lstrip("\ufeff \t\r\n")[:1] in ("[", "{"):
        return json_text_rows(text)
    return rows_from_csv(text)


def batch_template_csv(language: str) -> bytes:
    """The header row of a batch CSV with the column names of `language` ("en" or "ja"), as UTF-8
    with a byte-order mark: Excel opens that as Unicode (without the BOM it reads Shift_JIS on a
    Japanese Windows and English on others), any name can be written in it (cp932 has no 𠮷), and
    "CSV UTF-8" saves it back the same way. Files Excel saves as plain "CSV" (cp932) are read too."""
    if language not in TEMPLATE_LANGUAGES:
        raise NotFound(_("No template in that language."))
    names = [TEMPLATE_HEADERS[language][field] for field in FIELDS]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerow(names)
    return out.getvalue().encode("utf-8-sig")


# --- validation -----------------------------------------------------------------------------------
def _batch_refused(count: int) -> str:
    return ngettext("%(n)d row of the batch has errors: nothing was issued. Correct it and upload the whole "
                    "batch again.",
                    "%(n)d rows of the batch have errors: nothing was issued. Correct them and upload the whole "
                    "batch again.", count) % {"n": count}


def rows_validate(rows: Sequence[BatchRow], encoding: str = "", files: FileResolver | None = None
                  ) -> list[Recipient]:
    """Every row checked as a single award would be, and the same learner twice refused; any error
    refuses the whole batch (InvalidInput keyed "line 4.email" or "rows[3].evidence_url", with
    `row_errors` saying each in words). With `files`, each row's `evidence_files` are resolved and
    checked (badges.batch_files) and kept in `files.by_row`, in the order of the rows."""
    if not rows:
        raise InvalidInput(_("The batch has no rows."), field_errors={"rows": [_("Give at least one recipient.")]})
    if len(rows) > MAX_ROWS:
        raise InvalidInput(_("A batch holds at most %(n)d rows; split it.") % {"n": MAX_ROWS},
                           field_errors={"rows": [_("Too many rows.")]})
    recipients, problems, seen = [], [], {}
    for row in rows:
        recipient, row_errors = recipient_clean(row.values)
        if files is not None:
            row_files, file_problems = files.resolve(row.values.get("evidence_files"))
            files.by_row.append(row_files)
            if file_problems:
                row_errors = {**row_errors, "evidence_files": file_problems}
        elif references(row.values.get("evidence_files")):
            row_errors = {**row_errors, "evidence_files": [_("Evidence files can be given only with a file upload.")]}
        for field, messages in row_errors.items():
            problems.append(RowError(row.line, row.index, field, row.names.get(field, field), tuple(messages)))
        if recipient is None:
            continue
        if recipient.key in seen:
            field = "recipient_did" if recipient.did else "recipient_email"
            first = seen[recipient.key]
            message = (_("The same learner as on line %(line)d.") % {"line": first.line} if first.line is not None
                       else _("The same learner as in item %(n)d (rows[%(i)d]).") % {
                           "n": first.index + 1, "i": first.index})
            problems.append(RowError(row.line, row.index, field, row.names.get(field, field), (message,)))
        seen.setdefault(recipient.key, row)
        recipients.append(recipient)
    if problems:
        raise _refused(_batch_refused(len({(p.line, p.index) for p in problems})), problems, encoding)
    return recipients


# --- services -------------------------------------------------------------------------------------
def award_batch_create(*, actor: UserLike, programme: Programme, rows: Sequence[BatchRow],
                       encoding: str = "", archive: BatchZip | None = None) -> AwardBatch:
    """Check every row, store the batch (with how its file was read, `encoding`) and, after commit,
    start its chunk tasks. A row's `evidence_files` name files of the zip the sheet came in
    (`archive`) or files uploaded beforehand, by digest (badges.batch_files); the zip's files are
    stored when the batch is accepted. Refused with nothing written or stored: not an issuer of the
    programme's organisation (403/404), any bad row or file (400), no endorsement in force (409)."""
    check_can_issue(actor, programme.organisation)
    files = FileResolver(programme.organisation, archive)
    recipients = rows_validate(rows, encoding, files)
    with transaction.atomic():
        endorsement_for_awarding(programme)
        files.store(actor)
        batch = AwardBatch.objects.create(programme=programme, created_by=actor, total=len(recipients),
                                          source_encoding=encoding)
        AwardBatchRow.objects.bulk_create([
            AwardBatchRow(batch=batch, index=i, data={
                **r.as_row(), "where": row.where,
                **({"evidence_files": [f.as_row() for f in row_files]} if row_files else {})})
            for i, (r, row, row_files) in enumerate(zip(recipients, rows, files.by_row, strict=True))
        ], batch_size=1000)
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


def batch_rows_data(batch_id: int, start: int = 0, end: int | None = None) -> dict[int, dict[str, Any]]:
    """The stored rows [start, end) of a batch by position (one indexed range query: a chunk reads
    its own rows only)."""
    rows = AwardBatchRow.objects.filter(batch_id=batch_id, index__gte=start)
    if end is not None:
        rows = rows.filter(index__lt=end)
    return dict(rows.order_by("index").values_list("index", "data"))


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
    rows = batch_rows_data(batch.pk, start, end) if len(issued) < end - start else {}
    todo = [(i, Recipient.from_row(rows[i])) for i in range(start, end) if i not in issued]
    saved: list[Award] = []
    if todo:
        programme = batch.programme
        endorsement = endorsement_in_force(programme.pk)
        if endorsement is None:
            award_batch_fail(batch.pk, _("The endorsement of the programme is no longer in force: the rest of the "
                                         "batch was not issued."))
            return 0
        signer = AwardSigner(programme, endorsement, batch.created_by)
        # The rows' evidence links are fetched before signing (FETCH_CONCURRENCY at a time, no
        # transaction open), so that each credential names its link's WARC copy and digest.
        snapshots = links_snapshot([recipient.evidence_url for _row, recipient in todo])
        planned = {row: _row_copies(rows[row], recipient, snapshots) for row, recipient in todo}
        # Entries are allocated in their own short transaction so the organisation's lock is not
        # held while signing: chunks of one batch on several workers then sign in parallel.
        allocations = status_allocate_many(programme.organisation, StatusPurpose.REVOCATION, len(todo))
        awards = [signer.award(recipient, allocation, batch_id=batch.pk, batch_row=row, uploads=planned[row])
                  for (row, recipient), allocation in zip(todo, allocations, strict=True)]
        mails = award_emails_plan(awards)  # their claim tokens are inserted with the awards
        with new_files_removed_on_failure(), transaction.atomic():
            saved = award_insert(awards)
            # A row another run saved first keeps that run's copies and mail.
            copies_save_many((award, planned[award.batch_row]) for award in saved)
            after_issue(saved, snapshots, mails)
    award_batch_progress(batch.pk)
    return len(saved)


def _row_copies(row: dict[str, Any], recipient: Recipient, snapshots: dict[str, LinkSnapshot]) -> list[PlannedCopy]:
    """What a row's credential names in `relatedResource`: its link's WARC copy (when the link
    answered) and its files (stored when the batch was accepted), each with a new token."""
    copies = []
    snapshot = snapshots.get(recipient.evidence_url) if recipient.evidence_url else None
    if snapshot is not None and snapshot.copy is not None:
        # Two rows with the same link share the fetch, not the token: each award has its own URL.
        copies.append(replace(snapshot.copy, token=new_token()))
    for file in row.get("evidence_files") or []:
        copies.append(PlannedCopy(new_token(), file["name"], file["media_type"], file["sha384"], file["size"]))
    return copies


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
        # Its status lists once, now that every entry is issued (they were published, debounced,
        # while it ran: a list new to this batch at once, badges.status_publish).
        lists = (Award.objects.filter(batch_id=batch_id).order_by().values_list("status__status_list_id", flat=True)
                 .distinct())
        status_lists_publish(sorted(lists))
        # The evidence fetches may all have finished before the batch did: then they left the one
        # message for the batch to this (evidence_notify_batch sends it once, whoever calls last).
        evidence_notify_batch(batch_id)
        _batch_webhooks(batch_id)


def award_batch_fail(batch_id: int, error: str) -> None:
    """Record why a batch stopped, where its page shows it. A finished batch stays finished."""
    failed_before = AwardBatch.objects.filter(pk=batch_id, state=AwardBatch.State.FAILED).exists()
    failed = AwardBatch.objects.filter(pk=batch_id).exclude(state=AwardBatch.State.DONE).update(
        state=AwardBatch.State.FAILED, error=error[:2000], finished_at=timezone.now())
    if failed and not failed_before:  # reported when it fails, not again for each later error
        _batch_webhooks(batch_id)


def _batch_webhooks(batch_id: int) -> None:
    """The organisation's webhooks of a batch that finished or failed (webhooks.events)."""
    batch = AwardBatch.objects.select_related("programme__organisation").get(pk=batch_id)
    with transaction.atomic():
        webhooks_for_batch(batch)


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
    end = min(end, batch.total)
    awards = {a.batch_row: a for a in Award.objects.filter(batch=batch, batch_row__gte=start, batch_row__lt=end)
              .only("id", "public_id", "batch_row", "recipient_name", "recipient_email", "recipient_did")}
    return [
        BatchRowView(number=i + 1, where=str(row.get("where", "")), name=row.get("recipient_name", ""),
                     email=row.get("recipient_email", ""), did=row.get("recipient_did", ""), award=awards.get(i))
        for i, row in batch_rows_data(batch.pk, start, end).items()
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
