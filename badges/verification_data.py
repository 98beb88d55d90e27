"""What one verification reads of this registry's own records (badges.verification), read together.

A badge of one of our members, with the body's EndorsementCredential embedded, needs: the issuer
DIDs of both (the organisations and their keys), the two status lists its entries name, the award,
its evidence check and the endorsement. Read one by one through model instances that was nine or
more statements, and building the querysets and the instances cost far more than the database.
`VerificationRecords.preload` reads them in two statements before the checks run, with only the
columns the checks read, as rows (no model instances):

1. the issuers: every local organisation the credentials name (by DID, issuer or verification
   method), joined with its keys that are not withdrawn as compromised, in DID-document order;
2. the award the badge's id names, joined with its organisation, its evidence check, its status
   list (the list its allocation is on), its endorsement with that endorsement's application,
   programme, organisation and status list, and its archived evidence copies sealed in the
   credential with their blobs (one row a copy).

The archived evidence copies the credential names in `relatedResource` (this server's
/evidence/<token> addresses) are made model instances from those rows (badges.archive checks
them: the stored size every time, the digest under the rules of `copy_check_cached`); copies the
award's join did not hold (an endorsement's, or copies a changed credential names) are read in one
statement more, with their blobs.

The checks then ask `organisation_keys`, `status_list`, `award`, `endorsement` and
`archived_copy`; what the preload did not cover (an endorsement presented on its own, a status list
other than the award's or its endorsement's, a credential bundled in a ClrCredential whose award
was not joined) is read by a query of its own, still as rows.

Nothing is kept beyond the one verification: every verification reads afresh, so a revocation, a
suspension, a withdrawn key or a changed evidence standing shows in the very next one
(tests/badges/test_verification_queries.py).
"""

from __future__ import annotations

import re
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import connections, router
from django.db.models import FilteredRelation, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform

from badges import credentials as vc
from badges.archive import copy_token
from badges.did_resolver import is_local_did
from badges.evidence import EvidenceStanding, Standing
from badges.models import ArchivedEvidence, Award, EvidenceBlob, StatusList
from badges.routes import resolve_path
from institutions.models import MembershipState, Organisation

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
HIDDEN_MEMBERSHIPS = (MembershipState.APPLIED, MembershipState.REJECTED)
# The body is named by the DID with no path: its key in `VerificationRecords._issuers`.
BODY = ("", True)
# As badges.verification.MAX_ARCHIVED_COPIES: the archived copies of one credential read together.
MAX_COPIES = 20


# --- Rows as the checks read them -------------------------------------------------------------------
@dataclass(frozen=True)
class OrganisationRecord:
    """An organisation as the checks read it: `organisation_did` reads `slug` and
    `is_certification_body`; `str()` is the model's (its Japanese name for a Japanese reader)."""

    pk: int
    slug: str
    is_certification_body: bool
    name: str
    name_ja: str

    def __str__(self) -> str:
        return Organisation.__str__(self)  # the model's own rule, on the same attributes


@dataclass(frozen=True)
class AwardRecord:
    public_id: Any
    credential_id: str | None
    issued_at: datetime
    revoked_at: datetime | None
    revocation_reason: str
    organisation: OrganisationRecord
    evidence_standing: EvidenceStanding | None
    endorsement_public_id: Any = None


@dataclass(frozen=True)
class ApplicationRecord:
    state: str


@dataclass(frozen=True)
class ProgrammeRecord:
    public_id: Any
    name_en: str
    name_ja: str

    def __str__(self) -> str:
        from badges.models import Programme

        return Programme.__str__(self)  # the model's own rule, on the same attributes


@dataclass(frozen=True)
class EndorsementRecord:
    """An Endorsement as `_Verifier.endorsement_registry` reads it."""

    pk: int
    public_id: Any
    state: str
    state_changed_at: datetime | None
    valid_from: datetime
    valid_until: datetime
    application: ApplicationRecord
    programme: ProgrammeRecord | None
    organisation: OrganisationRecord

    def get_state_display(self) -> str:
        from endorsement.models import EndorsementState

        return str(EndorsementState(self.state).label)

    @property
    def successor(self) -> Any:
        """The endorsement that renews or revises this one (read only when the check needs it)."""
        from endorsement.models import Endorsement, EndorsementState

        return Endorsement.objects.filter(predecessor_id=self.pk).exclude(state=EndorsementState.REVOKED) \
            .only("public_id").order_by("-valid_from").first()


# --- Reading the credential for what it names ------------------------------------------------------
def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _local_route(url: Any):
    if not isinstance(url, str) or not url.startswith(settings.SITE_URL + "/"):
        return None
    return resolve_path(urlsplit(url).path)


def issuer_key(did: Any) -> tuple[str, bool] | None:
    """(slug, is the body) for a did:web of this server naming the body or a member; None for
    any other DID (badges.did_resolver.local_organisation reads the same)."""
    if not isinstance(did, str):
        return None
    did = did.split("#", 1)[0]
    if not is_local_did(did):
        return None
    segments = [unquote(s) for s in did.split(":")[3:]]
    if not segments:
        return BODY
    if len(segments) == 2 and segments[0] == "organisations":
        return segments[1], False
    return None


def status_list_key(url: Any) -> tuple[str, str, int] | None:
    """(organisation slug, purpose, number) for a URL of one of this server's status lists."""
    match = _local_route(url)
    if match is None or match.url_name != "status-list":
        return None
    return match.kwargs["slug"], match.kwargs["purpose"], match.kwargs["number"]


def endorsement_key(credential_id: Any) -> str | None:
    """The public_id an EndorsementCredential id of this server names, as text."""
    match = _local_route(credential_id)
    if match is None or match.url_name != "endorsement-credential":
        return None
    return str(match.kwargs["public_id"])


def award_candidates(credential_id: Any) -> list[str]:
    """The public ids an award's credential id may carry (the id ends with it)."""
    return UUID_RE.findall(credential_id)[:5] if isinstance(credential_id, str) else []


def _named_dids(document: Mapping[str, Any]) -> Iterable[Any]:
    yield vc.issuer_id(document)
    for proof in _as_list(document.get("proof")):
        if isinstance(proof, Mapping):
            yield proof.get("verificationMethod")


def _named_copies(document: Mapping[str, Any]) -> Iterable[str]:
    """The tokens of this server's archived copies the credential names in `relatedResource` (at
    most as many as the verifier checks)."""
    resources = [r for r in _as_list(document.get("relatedResource")) if isinstance(r, Mapping)]
    for resource in resources[:MAX_COPIES]:
        token = copy_token(resource.get("id"))
        if token is not None:
            yield token


def _named_status_lists(document: Mapping[str, Any]) -> Iterable[Any]:
    for entry in _as_list(document.get("credentialStatus"))[:10]:
        if isinstance(entry, Mapping):
            yield entry.get("statusListCredential")


# --- Compiled once, executed many times ----------------------------------------------------------------
# Building a queryset of a dozen joins and compiling it to SQL costs several times what PostgreSQL
# takes to answer it. The two preload statements are the same SQL every time, with other values:
# each is built and compiled once per database connection and shape (how many values of each kind),
# with stand-in values whose places in the parameters are then filled with the real ones. The rows
# still go through the compiler's own converters (JSON, UUIDs, datetimes, as `.values()` gives them).
_COMPILED: weakref.WeakKeyDictionary[Any, dict[Any, tuple[Any, ...]]] = weakref.WeakKeyDictionary()


def _stand_in(kind: type) -> Any:
    return uuid.uuid4() if kind is uuid.UUID else f"\x1fverification-{uuid.uuid4().hex}"


def prepared_cursor(connection: Any) -> Any:
    """A cursor of `connection` (Django's wrapper: its execute wrappers, query log and error
    translation) whose statements PostgreSQL prepares: on psycopg 3, a server-side binding cursor
    that executes with `prepare=True`, so the statement is prepared on the connection the first
    time and run by name after, and PostgreSQL plans it once per connection, not at every
    execution (the award's statement of a dozen joins took PostgreSQL ≈ 3 ms to plan and 0.3 ms to
    run). The psycopg cursor is kept with the connection and used again (making one, and Django's
    checks around it, cost as much as psycopg's execute); the caller must not close the wrapper.
    Django leaves prepared statements off by default for the sake of connection poolers;
    `VERIFY_PREPARED_STATEMENTS = False` (for a pooler in transaction mode that does not keep
    prepared statements: PgBouncer before 1.21) gives the ordinary cursor, as do other databases
    and psycopg 2 (then the caller closes it as usual: `closing_needed`)."""
    if connection.vendor != "postgresql" or not settings.VERIFY_PREPARED_STATEMENTS:
        return connection.cursor()
    from django.db.backends.postgresql.base import is_psycopg3

    if not is_psycopg3:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    kept = _CURSORS.get(connection)
    if kept is None or kept[0] is not connection.connection or kept[1] != connection.timezone or kept[2].closed:
        with connection.wrap_database_errors:
            kept = _CURSORS[connection] = (connection.connection, connection.timezone, _new_raw_cursor(connection))
    return connection._prepare_cursor(kept[2])


def statement_rows(connection: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """The rows (tuples) of one statement on `connection`, prepared where `prepared_cursor` prepares.

    On the kept psycopg cursor the statement is executed directly, not through Django's cursor
    wrapper (its execute wrappers' chain, the query log's checks: a third of the statement's client
    CPU), with what the wrapper does for it kept: a transaction broken by an earlier error is
    refused and psycopg's errors are made Django's. When someone listens (the query log is on:
    DEBUG, `CaptureQueriesContext`; or an execute wrapper is installed), the statement goes through
    the wrapper, so they see it as before."""
    cursor = prepared_cursor(connection)
    preparing = not closing_needed(cursor)
    if preparing and not connection.queries_logged and not connection.execute_wrappers:
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            return execute_kept(cursor.cursor, sql, params)
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        if not preparing:
            cursor.close()


def execute_kept(cursor: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """The rows of `sql` executed on the kept psycopg cursor (bench/verify.py times this as the
    database, as Django's execute wrapper would)."""
    cursor.execute(sql, params)
    return cursor.fetchall()


def closing_needed(cursor: Any) -> bool:
    """Whether the caller closes `cursor` (one `prepared_cursor` gave): not when it is the kept one."""
    return not isinstance(cursor.cursor, _preparing_cursor_class())


# A connection (Django's wrapper) → (its psycopg connection, time zone, the kept preparing cursor).
_CURSORS: weakref.WeakKeyDictionary[Any, tuple[Any, Any, Any]] = weakref.WeakKeyDictionary()


def _new_raw_cursor(connection: Any) -> Any:
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, Format, register_tzloader

    if connection.connection.prepare_threshold is None:
        # Django turns psycopg's prepared statements off (None). Only a statement executed with
        # prepare=True is prepared at this threshold, never reached: Django's own cursors bind on
        # the client and never prepare.
        connection.connection.prepare_threshold = NEVER_BY_COUNT
    raw = _preparing_cursor_class()(connection.connection)
    # As Django's create_cursor: the cursor's timestamps in the connection's time zone.
    if connection.timezone != connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
        register_tzloader(connection.timezone, raw)
    return raw


NEVER_BY_COUNT = 2**62


@lru_cache(maxsize=1)
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Django's server-side binding cursor, preparing every statement it executes."""

        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True if prepare is None else prepare, **kwargs)

        def _convert_query(self, query: Any, params: Any = None) -> Any:
            converted = super()._convert_query(query, params)
            # psycopg keeps the converted statement as `_query` only when it does not prepare it;
            # Django's query log (connection.queries, CaptureQueriesContext) reads it from there.
            self._query = converted
            return converted

    return PreparingCursor


_COLUMN_ALIAS = re.compile(r' AS "[A-Za-z0-9_]+"(?=, |$)')


def _without_column_aliases(sql: str) -> str:
    """The statement without its select list's column aliases (`"t"."slug" AS "organisation__slug"`),
    which nothing reads: the rows are read by position. Shorter, the award's statement stays under
    the 4,096 characters up to which psycopg remembers how it converted a statement (longer ones
    are parsed again at every execution). Left as it is when its select list holds a subquery."""
    select, found, rest = sql.partition(" FROM ")
    if not found or "SELECT" in select[len("SELECT"):] or not select.startswith("SELECT "):
        return sql
    return _COLUMN_ALIAS.sub("", select) + found + rest


def compiled_rows(name: str, model: type, build: Callable[[list[Any]], QuerySet],
                  values: list[Any]) -> list[dict[str, Any]]:
    """The rows (dicts, as `.values()` gives them) of the values query `build(values)` on `model`,
    compiled once per connection for this `name` and the types of `values`, then run with `values`
    in place of the stand-ins it was compiled with."""
    connection = connections[router.db_for_read(model)]
    shape = (name, tuple(type(v) for v in values))
    cache = _COMPILED.setdefault(connection, {})
    if shape not in cache:
        stand_ins = [_stand_in(type(v)) for v in values]
        queryset = build(stand_ins)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        places: dict[int, int] = {}
        for number, stand_in in enumerate(stand_ins):
            found = [i for i, p in enumerate(params) if p == stand_in or (isinstance(stand_in, uuid.UUID)
                                                                           and p == stand_in.hex)]
            if len(found) != 1:  # never expected: then the query is compiled for every call
                return list(build(values))
            places[found[0]] = number
        query = queryset.query
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        # The columns' converters, found once too (results_iter looks them up at every call).
        fields = [selected[0] for selected in compiler.select[0:compiler.col_count]]
        converters = None if compiler.has_composite_fields(fields) else compiler.get_converters(fields)
        cache[shape] = (compiler, _without_column_aliases(sql), list(params), places, names, converters)
    compiler, sql, params, places, names, converters = cache[shape]
    params = list(params)
    for at, number in places.items():
        value = values[number]
        params[at] = value.hex if isinstance(params[at], str) and isinstance(value, uuid.UUID) else value
    rows = statement_rows(connection, sql, params)
    if converters is None:
        converted = compiler.results_iter(results=[rows])
    else:
        converted = compiler.apply_converters(rows, converters) if converters else rows
    return [dict(zip(names, row, strict=True)) for row in converted]


# --- The reads ---------------------------------------------------------------------------------------
ORGANISATION_FIELDS = ("pk", "slug", "is_certification_body", "name", "name_ja")


def _organisation(row: Mapping[str, Any], prefix: str = "") -> OrganisationRecord:
    return OrganisationRecord(*(row[prefix + name] for name in ORGANISATION_FIELDS))


def _evidence(row: Mapping[str, Any]) -> EvidenceStanding | None:
    """What badges.evidence.evidence_standing_for says, from the joined evidence check."""
    if not row["evidence_url"]:
        return None
    if row["evidence_check__pk"] is None:
        return EvidenceStanding(row["evidence_url"], Standing.PENDING, Standing.PENDING.label, None, None, "", None,
                                "", "")
    standing = row["evidence_check__standing"]
    return EvidenceStanding(row["evidence_check__url"], standing, Standing(standing).label,
                            row["evidence_check__retrieved_at"], row["evidence_check__last_checked_at"],
                            row["evidence_check__sha256"], row["evidence_check__size"],
                            row["evidence_check__content_type"], row["evidence_check__detail"])


COPY_FIELDS = ("pk", "token", "digest_sri", "taken_at", "withdrawn_at", "withdrawal_reason",
               "blob__pk", "blob__sha384", "blob__size", "blob__storage_name", "blob__removed_at",
               "blob__verified_at", "blob__verified_size", "blob__verified_intact")


def _instance(model: type, database: str, values: Mapping[str, Any]) -> Any:
    """A `model` instance as the ORM makes it from a row (`Model.from_db`): `values` by attribute
    name, in the order of the model's columns; the columns not given deferred."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(database, names, [values[name] for name in names])


def _copy(row: Mapping[str, Any], prefix: str = "") -> ArchivedEvidence:
    """An archived copy with its blob, as badges.archive checks it, from its row: model instances
    made as the ORM makes them from a row (the columns read, the others deferred), not read again."""
    def value(name: str) -> Any:
        return row[prefix + name]

    database = router.db_for_read(ArchivedEvidence)
    blob = _instance(EvidenceBlob, database, {
        "id": value("blob__pk"), "sha384": value("blob__sha384"), "size": value("blob__size"),
        "storage_name": value("blob__storage_name"), "removed_at": value("blob__removed_at"),
        "verified_at": value("blob__verified_at"), "verified_size": value("blob__verified_size"),
        "verified_intact": value("blob__verified_intact")})
    copy = _instance(ArchivedEvidence, database, {
        "id": value("pk"), "token": value("token"), "digest_sri": value("digest_sri"), "taken_at": value("taken_at"),
        "withdrawn_at": value("withdrawn_at"), "withdrawal_reason": value("withdrawal_reason"),
        "blob_id": value("blob__pk")})
    copy.blob = blob
    return copy


AWARD_FIELDS = (
    "public_id", "issued_at", "revoked_at", "revocation_reason", "evidence_url",
    *(f"organisation__{name}" for name in ORGANISATION_FIELDS),
    "evidence_check__pk", "evidence_check__url", "evidence_check__standing", "evidence_check__retrieved_at",
    "evidence_check__last_checked_at", "evidence_check__sha256", "evidence_check__size",
    "evidence_check__content_type", "evidence_check__detail",
)
STATUS_FIELDS = ("status__status_list__organisation__slug", "status__status_list__purpose",
                 "status__status_list__number", "status__status_list__credential")
ENDORSEMENT_FIELDS = (
    "pk", "public_id", "state", "state_changed_at", "valid_from", "valid_until", "application__state",
    "programme__public_id", "programme__name_en", "programme__name_ja",
    *(f"organisation__{name}" for name in ORGANISATION_FIELDS),
)


def _endorsement(row: Mapping[str, Any], prefix: str = "") -> EndorsementRecord:
    programme = None
    if row[prefix + "programme__public_id"] is not None:
        programme = ProgrammeRecord(row[prefix + "programme__public_id"], row[prefix + "programme__name_en"],
                                    row[prefix + "programme__name_ja"])
    return EndorsementRecord(
        row[prefix + "pk"], row[prefix + "public_id"], row[prefix + "state"], row[prefix + "state_changed_at"],
        row[prefix + "valid_from"], row[prefix + "valid_until"], ApplicationRecord(row[prefix + "application__state"]),
        programme, _organisation(row, prefix + "organisation__"))


@dataclass
class VerificationRecords:
    """This registry's records one verification reads, preloaded or read on demand; never shared
    between verifications. Each lookup says None for "this registry has none"."""

    # (slug, is the body) → (organisation, [(fragment, multibase key, retired_at)]) or None
    _issuers: dict[tuple[str, bool], tuple[OrganisationRecord, list[tuple[str, str, Any]]] | None] = \
        field(default_factory=dict)
    # (slug, purpose, number) → the signed list credential, or None
    _status_lists: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    # a credential id → the award with that id, or None
    _awards: dict[str, AwardRecord | None] = field(default_factory=dict)
    # a public_id (text) → (the credential's id, the endorsement), or None
    _endorsements: dict[str, tuple[str | None, EndorsementRecord] | None] = field(default_factory=dict)
    # an archived copy's token → the copy with its blob (model instances made from its row), or None
    _copies: dict[str, ArchivedEvidence | None] = field(default_factory=dict)

    # --- reading together ---
    def preload(self, credential: Mapping[str, Any], endorsements: Iterable[Mapping[str, Any]] = (),
                *, badge: bool = True) -> None:
        """Read in two statements what verifying `credential` and its embedded `endorsements` will
        ask: their local issuers with their keys; when `badge`, the award its id names with
        everything the award checks read, its status list, and its endorsement's record and status
        list."""
        documents = [credential, *endorsements]
        wanted = {key for document in documents for did in _named_dids(document)
                  if (key := issuer_key(did)) is not None and key not in self._issuers}
        if wanted:
            self._read_issuers(wanted)
        credential_id = credential.get("id")
        if badge and isinstance(credential_id, str) and credential_id not in self._awards:
            self._read_award(credential_id)
        tokens = sorted({token for token in _named_copies(credential) if token not in self._copies})
        if tokens:
            self._read_copies(tokens)

    def _read_copies(self, tokens: list[str]) -> None:
        def build(values: list[Any]) -> QuerySet:
            return ArchivedEvidence.objects.filter(token__in=values).order_by().values(*COPY_FIELDS)

        found = {row["token"]: _copy(row) for row in compiled_rows("copies", ArchivedEvidence, build, tokens)}
        for token in tokens:
            self._copies[token] = found.get(token)

    def _read_issuers(self, wanted: set[tuple[str, bool]]) -> None:
        members = sorted(slug for slug, body in wanted if not body)

        def build(slugs: list[Any]) -> QuerySet:
            query = Q(pk__in=[])
            if BODY in wanted:
                query |= Q(is_certification_body=True)
            if slugs:
                query |= Q(slug__in=slugs, is_certification_body=False) & ~Q(membership__in=HIDDEN_MEMBERSHIPS)
            return (Organisation.objects.filter(query)
                    .annotate(live_key=FilteredRelation("keys", condition=Q(keys__compromised_at__isnull=True)))
                    .order_by("name", "pk", "live_key__created_at", "live_key__id")
                    .values(*ORGANISATION_FIELDS, "live_key__fragment", "live_key__public_key_multibase",
                            "live_key__retired_at"))

        rows = [tuple(row.values()) for row in
                compiled_rows(f"issuers:{BODY in wanted}", Organisation, build, members)]
        found: dict[tuple[str, bool], tuple[OrganisationRecord, list[tuple[str, str, Any]]]] = {}
        for pk, slug, is_body, name, name_ja, fragment, key, retired_at in rows:
            at = BODY if is_body else (slug, False)
            if at not in found:  # the first body by name, as local_organisation takes it
                found[at] = (OrganisationRecord(pk, slug, is_body, name, name_ja), [])
            if found[at][0].pk == pk and fragment is not None:
                found[at][1].append((fragment, key, retired_at))
        for at in wanted:
            self._issuers[at] = found.get(at)

    def _read_award(self, credential_id: str) -> None:
        candidates = award_candidates(credential_id)
        self._awards[credential_id] = None
        if not candidates:
            return
        endorsement_fields = tuple(f"endorsement__{name}" for name in ENDORSEMENT_FIELDS)

        copy_fields = tuple(f"sealed_copy__{name}" for name in COPY_FIELDS)

        def build(public_ids: list[Any]) -> QuerySet:
            # With its archived copies sealed in the credential (one row each; one row with none).
            return Award.objects.filter(public_id__in=public_ids).annotate(sealed_copy=FilteredRelation(
                "archived_evidence", condition=Q(archived_evidence__in_credential=True))).order_by().values(
                *AWARD_FIELDS, *STATUS_FIELDS, *endorsement_fields,
                *(f"endorsement__status__status_list__{name}" for name in ("organisation__slug", "purpose",
                                                                            "number", "credential")),
                *copy_fields,
                credential_id=KeyTextTransform("id", "credential"),
                endorsement_credential_id=KeyTextTransform("id", "endorsement__credential"))

        rows = compiled_rows("award", Award, build, [uuid.UUID(candidate) for candidate in candidates])
        for row in rows:
            if row["credential_id"] != credential_id:
                continue
            for other in rows:  # the award's copies, whichever row each came on
                if other["public_id"] == row["public_id"] and other["sealed_copy__token"] is not None:
                    self._copies[other["sealed_copy__token"]] = _copy(other, "sealed_copy__")
            self._awards[credential_id] = AwardRecord(
                row["public_id"], row["credential_id"], row["issued_at"], row["revoked_at"], row["revocation_reason"],
                _organisation(row, "organisation__"), _evidence(row), row["endorsement__public_id"])
            for prefix in ("status__status_list__", "endorsement__status__status_list__"):
                if row[prefix + "organisation__slug"] is not None:
                    key = (row[prefix + "organisation__slug"], row[prefix + "purpose"], row[prefix + "number"])
                    self._status_lists[key] = row[prefix + "credential"]
            if row["endorsement_credential_id"] is not None:
                self._endorsements[str(row["endorsement__public_id"])] = (
                    row["endorsement_credential_id"], _endorsement(row, "endorsement__"))
            return

    # --- the lookups the checks make ---
    def organisation_keys(self, did: str) -> tuple[OrganisationRecord, list[tuple[str, str, Any]]] | None:
        """The organisation a local DID names and its keys (fragment, multibase, retired_at) that
        are not withdrawn, in DID-document order; None when no issuer here has that DID."""
        at = issuer_key(did)
        if at is None:
            return None
        if at not in self._issuers:
            self._read_issuers({at})
        return self._issuers[at]

    def status_list(self, url: str) -> Any:
        """The signed status list credential at one of our status list URLs, or None."""
        key = status_list_key(url)
        if key is None:
            return None
        if key not in self._status_lists:
            slug, purpose, number = key
            # One row at most (unique organisation, purpose, number); ordered by pk, not by the model's
            # ordering, which would join the organisation table for nothing.
            self._status_lists[key] = StatusList.objects.filter(
                organisation__slug=slug, purpose=purpose, number=number).order_by("pk").values_list(
                    "credential", flat=True).first()
        return self._status_lists[key]

    def award(self, credential_id: Any) -> AwardRecord | None:
        """This registry's award whose signed credential has this id, or None."""
        if not isinstance(credential_id, str):
            return None
        if credential_id not in self._awards:
            self._read_award(credential_id)
        return self._awards[credential_id]

    def archived_copy(self, token: str) -> ArchivedEvidence | None:
        """This server's archived copy with this token and its blob, or None."""
        if token not in self._copies:
            self._read_copies([token])
        return self._copies[token]

    def endorsement(self, credential_id: Any) -> EndorsementRecord | None:
        """This registry's endorsement whose signed credential has this id, or None."""
        from endorsement.models import Endorsement

        public_id = endorsement_key(credential_id)
        if public_id is None:
            return None
        if public_id not in self._endorsements:
            row = (Endorsement.objects.filter(public_id=public_id, credential__isnull=False).order_by("pk")
                   .values(*ENDORSEMENT_FIELDS, credential_id=KeyTextTransform("id", "credential")).first())
            self._endorsements[public_id] = None if row is None else (row["credential_id"], _endorsement(row))
        found = self._endorsements[public_id]
        if found is None or found[0] != credential_id:
            return None
        return found[1]
