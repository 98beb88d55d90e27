"""How one endorsement of a programme follows another: renewals, changes to an endorsed programme,
the start of a renewal granted in advance, and the reminders before an endorsement ends.

- A **renewal** (`Application.renews`) is opened from the programme's latest endorsement, from
  RENEWAL_WINDOW_DAYS before it ends (or at any time after it ended). Endorsed while the old one
  still runs, the new endorsement is `scheduled` from the old one's end; endorsed after it ended,
  it is active at once.
- A **change** (`Application.revises`) is any application opened for a programme whose endorsement
  is in force. Endorsed, the new endorsement is `scheduled` until it is published; publishing it
  supersedes the old one and starts the new, for the rest of the old one's period.
- A scheduled endorsement starts (and its predecessor ends as `superseded`) at the later of its
  start and its publication, never while its predecessor is suspended. The one-to-one
  `predecessor` and the partial unique constraints (one active, one scheduled per programme) keep
  two endorsements from standing side by side.

This module builds on `endorsement.transitions` and never imports `endorsement.services` (which
imports it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from badges.models import Programme
from config.errors import InvalidInput, NotPermitted, WrongState
from endorsement.audit import AuditAction, audit_for, audit_record
from endorsement.models import (
    OPEN_STATES,
    Application,
    ApplicationState,
    Endorsement,
    EndorsementState,
    Judgement,
    ReviewDepth,
    same_subject,
)
from endorsement.transitions import locked, notify, refresh_registry_on_commit, run_transition
from institutions.permissions import can_edit_for, is_manager
from pathways.models import Pathway

E = EndorsementState


def _day(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d}"


# --- Opening a renewal or a change ----------------------------------------------------------------
def renewal_opens_at(endorsement: Endorsement) -> datetime:
    """From when a renewal of this endorsement may be opened."""
    return endorsement.valid_until - timedelta(days=settings.RENEWAL_WINDOW_DAYS)


def renewal_refusal(endorsement: Endorsement, *, now: datetime | None = None) -> str | None:
    """Why no renewal can be opened from this endorsement now, or None when one can."""
    now = now or timezone.now()
    state = endorsement.state
    if state == E.ACTIVE and endorsement.valid_until > now and now < renewal_opens_at(endorsement):
        return _("A renewal can be opened from %(date)s, %(days)d days before the endorsement ends on %(end)s.") % {
            "date": _day(renewal_opens_at(endorsement)), "days": settings.RENEWAL_WINDOW_DAYS,
            "end": _day(endorsement.valid_until)}
    if state == E.SCHEDULED:
        return _("This endorsement has not started yet: it is itself the renewal.")
    if state == E.SUSPENDED:
        return _("The endorsement is suspended: it can be renewed once the body reinstates it.")
    if state == E.REVOKED:
        return _("The endorsement was revoked: apply for certification afresh instead.")
    if state == E.SUPERSEDED or endorsement.successor is not None:
        return _("This endorsement has already been renewed or replaced by a change: renew the newer one.")
    if Endorsement.objects.filter(**same_subject(endorsement), valid_from__gt=endorsement.valid_from
                                  ).exclude(state=E.REVOKED).exists():
        return _("A later endorsement of this programme exists: renew that one.")
    if Application.objects.filter(**same_subject(endorsement), state__in=OPEN_STATES).exists():
        return _("This programme already has an open application: finish or withdraw it first.")
    return None


@transaction.atomic
def endorsement_renew(*, actor: Any, endorsement: Endorsement) -> Application:
    """Open the renewal of an endorsement: a draft application with `renews` set, for the programme
    as it is now (frozen when the organisation submits it). Owners and editors of the organisation,
    or a manager of the body on its behalf (the admin's button)."""
    endorsement = locked(Endorsement, endorsement.pk)
    if not (can_edit_for(actor, endorsement.organisation) or is_manager(actor)):
        raise NotPermitted(_("Only owners and editors of the organisation, or managers of the body, may open a "
                             "renewal."))
    problem = renewal_refusal(endorsement)
    if problem:
        raise WrongState(problem)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                **same_subject(endorsement), organisation_id=endorsement.organisation_id,
                created_by=actor, renews=endorsement,
            )
    except IntegrityError:  # a concurrent request opened an application first
        raise WrongState(_("This programme already has an open application: finish or withdraw it first.")) from None
    audit_record(actor=actor, action=AuditAction.APPLICATION_CREATED, subject=application,
                 to_state=application.state,
                 data={endorsement.subject._meta.model_name: str(endorsement.subject.public_id), "kind": "renewal",
                       "renews": str(endorsement.public_id)})
    return application


def revision_target(programme: Programme | Pathway, *, now: datetime | None = None) -> Endorsement | None:
    """The endorsement a new application for this programme revises: the programme's current
    endorsement (active or suspended, still running, not replaced), or None (a new application).
    WrongState while a renewal is granted and has not started yet."""
    now = now or timezone.now()
    of = {"pathway": programme} if isinstance(programme, Pathway) else {"programme": programme}
    if Endorsement.objects.filter(**of, state=E.SCHEDULED).exists():
        raise WrongState(_("A renewal or change of this programme is granted and has not started yet; apply for "
                           "further changes once it has."))
    return (
        Endorsement.objects.filter(**of, state__in=[E.ACTIVE, E.SUSPENDED], valid_until__gt=now)
        .exclude(successors__state__in=[E.SCHEDULED, E.ACTIVE, E.SUSPENDED, E.EXPIRED, E.SUPERSEDED])
        .order_by("-valid_from").first()
    )


@transaction.atomic
def application_set_review_depth(*, actor: Any, application: Application, depth: str,
                                 comment: str = "") -> Application:
    """A manager decides how deep the review of a change goes: `minor` (one reviewer decides) or
    `full` (the body's usual rule, ENDORSEMENT_MIN_REVIEWERS). Only a change application, while
    submitted or in review; a reason is required for minor."""
    if not is_manager(actor):
        raise NotPermitted(_("Only managers of the certification body decide how deep a review goes."))
    if depth not in ReviewDepth.values:
        raise InvalidInput(_("Choose how deep the review goes."), field_errors={
            "depth": [_("Choose one of: %(v)s.") % {"v": ", ".join(ReviewDepth.values)}]})
    comment = (comment or "").strip()
    if depth == ReviewDepth.MINOR and not comment:
        raise InvalidInput(_("Say why the change is minor."), field_errors={"comment": [_("This field is required.")]})
    application = locked(Application, application.pk)
    if not application.revises_id:
        raise WrongState(_("Only a change to an endorsed programme can be reviewed as a minor change."))
    if application.state not in {ApplicationState.SUBMITTED, ApplicationState.IN_REVIEW}:
        raise WrongState(_("How deep the review goes can be decided only while the application is submitted or "
                           "in review."))
    if application.review_depth == depth:
        raise WrongState(_("The review is already set so."))
    before = application.review_depth
    application.review_depth = depth
    application.save(update_fields=["review_depth", "updated_at"])
    audit_record(actor=actor, action=AuditAction.APPLICATION_REVIEW_DEPTH_SET, subject=application,
                 from_state=application.state, to_state=application.state, comment=comment,
                 data={"from": before, "to": depth})
    return application


# --- Endorsing a renewal or a change --------------------------------------------------------------
@dataclass(frozen=True)
class Terms:
    """What `endorse` grants: the new endorsement's state, period, version and predecessor."""

    state: str
    valid_from: datetime
    valid_until: datetime
    version: int
    predecessor: Endorsement | None

    def as_data(self) -> dict[str, Any]:
        return {"state": self.state, "valid_from": self.valid_from.isoformat(),
                "valid_until": self.valid_until.isoformat(), "version": self.version,
                "predecessor": str(self.predecessor.public_id) if self.predecessor else None}


def _version_for(application: Application, replaced: Endorsement | None) -> int:
    """The same version when the endorsed content is unchanged, the next one when it changed."""
    endorsements = Endorsement.objects.filter(**same_subject(application))
    previous = replaced or endorsements.select_related("application").order_by("-valid_from", "-pk").first()
    if previous is None:
        return 1
    if previous.application.snapshot_sha256 == application.snapshot_sha256:
        return previous.version
    return (endorsements.aggregate(highest=Max("version"))["highest"] or 0) + 1


def _expire(endorsement: Endorsement) -> None:
    """End an endorsement (locked) whose period is over but which the beat task has not expired yet."""
    if endorsement.state in {E.ACTIVE, E.SUSPENDED}:
        endorsement.state_changed_at = endorsement.valid_until
        run_transition(endorsement, "expire", actor=None, action=AuditAction.ENDORSEMENT_EXPIRED,
                       comment="valid until " + endorsement.valid_until.isoformat())
        refresh_registry_on_commit(endorsement)


def successor_terms(application: Application, *, now: datetime) -> Terms:
    """The terms of the endorsement `endorse` grants for this application (already locked by the
    caller). Locks the endorsement it replaces; refuses (WrongState) when that one cannot be
    replaced."""
    validity = timedelta(days=settings.ENDORSEMENT_VALIDITY_DAYS)
    replaced = application.replaces
    if replaced is None:
        return Terms(E.ACTIVE, now, now + validity, _version_for(application, None), None)
    replaced = locked(Endorsement, replaced.pk)
    if replaced.successor is not None or replaced.state == E.SUPERSEDED:
        raise WrongState(_("The endorsement this application replaces has been replaced already."))
    if replaced.state == E.REVOKED:
        raise WrongState(_("The endorsement this application replaces was revoked: reject this application; the "
                           "organisation may apply afresh."))
    if replaced.state == E.SCHEDULED:
        raise WrongState(_("The endorsement this application replaces has not started yet."))
    version = _version_for(application, replaced)
    ended = replaced.state == E.EXPIRED or replaced.valid_until <= now
    if ended:
        _expire(replaced)
        return Terms(E.ACTIVE, now, now + validity, version, replaced)
    if application.renews_id:
        if replaced.state == E.SUSPENDED:
            raise WrongState(_("The endorsement this renews is suspended: reinstate or revoke it before deciding "
                               "its renewal."))
        # No gap, no overlap: the renewal starts the instant the renewed endorsement ends.
        return Terms(E.SCHEDULED, replaced.valid_until, replaced.valid_until + validity, version, replaced)
    # A change: it starts when published, for the rest of the period of the endorsement it revises.
    return Terms(E.SCHEDULED, now, replaced.valid_until, version, replaced)


# --- Starting a scheduled endorsement -------------------------------------------------------------
def may_start(endorsement: Endorsement, now: datetime) -> bool:
    predecessor = endorsement.predecessor
    return (
        endorsement.state == E.SCHEDULED and endorsement.valid_from <= now
        and endorsement.application.state == ApplicationState.PUBLISHED
        and (predecessor is None or predecessor.state != E.SUSPENDED)
    )


def endorsement_start(endorsement: Endorsement, *, at: datetime) -> Endorsement:
    """Start a scheduled endorsement (the caller holds its lock and checked `may_start`): its
    predecessor, if still active, ends as superseded at the same instant, then it is active."""
    predecessor = locked(Endorsement, endorsement.predecessor_id) if endorsement.predecessor_id else None
    if predecessor is not None and predecessor.state == E.ACTIVE:
        predecessor.state_changed_at = at
        run_transition(predecessor, "supersede", actor=None, action=AuditAction.ENDORSEMENT_SUPERSEDED,
                       comment=_("Replaced by the endorsement %(id)s from %(date)s.")
                       % {"id": endorsement.public_id, "date": _day(at)},
                       data={"successor": str(endorsement.public_id), "at": at.isoformat()})
    endorsement.state_changed_at = at
    run_transition(endorsement, "start", actor=None, action=AuditAction.ENDORSEMENT_STARTED,
                   data={"predecessor": str(predecessor.public_id) if predecessor else None,
                         "at": at.isoformat()})
    refresh_registry_on_commit(endorsement)
    return endorsement


def endorsement_start_if_due(endorsement: Endorsement, *, now: datetime) -> bool:
    """On publication: a change (or a renewal whose predecessor has ended) starts at once."""
    endorsement = locked(Endorsement, endorsement.pk)
    if not may_start(endorsement, now):
        return False
    endorsement_start(endorsement, at=now)
    return True


def endorsements_start_due(*, now: datetime | None = None) -> int:
    """Beat (with the expiry): start every published scheduled endorsement whose time has come,
    at the moment it was due (its start, or its publication if later). Safe to repeat."""
    now = now or timezone.now()
    due = (Endorsement.objects.filter(state=E.SCHEDULED, valid_from__lte=now,
                                      application__state=ApplicationState.PUBLISHED)
           .exclude(predecessor__state=E.SUSPENDED).values_list("pk", flat=True))
    started = 0
    for pk in list(due):
        with transaction.atomic():
            endorsement = locked(Endorsement, pk)
            if not may_start(endorsement, now):
                continue
            at = max(endorsement.valid_from, endorsement.published_at or endorsement.valid_from)
            endorsement_start(endorsement, at=min(at, now))
            started += 1
    return started


# --- Reminders ------------------------------------------------------------------------------------
def _threshold(days_left: float) -> int | None:
    reached = [d for d in settings.RENEWAL_REMINDER_DAYS if d >= days_left]
    return min(reached) if reached else None


def endorsement_expiry_reminders(*, now: datetime | None = None) -> int:
    """Beat (daily): remind the organisation and the managers that an endorsement ends soon, once
    per threshold of RENEWAL_REMINDER_DAYS (the tightest one reached: an endorsement first seen 50
    days before its end gets the 60-day reminder, then the 14-day one). Nothing for an endorsement
    already renewed. Each reminder is an audit event (the mail derives from it, once); running the
    task again finds the event and sends nothing. Returns how many reminders were recorded."""
    now = now or timezone.now()
    if not settings.RENEWAL_REMINDER_DAYS:
        return 0
    horizon = now + timedelta(days=max(settings.RENEWAL_REMINDER_DAYS))
    candidates = Endorsement.objects.filter(
        state=E.ACTIVE, valid_until__gt=now, valid_until__lte=horizon,
        application__state=ApplicationState.PUBLISHED,
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(candidates):
        with transaction.atomic():
            endorsement = locked(Endorsement, pk)
            if endorsement.state != E.ACTIVE or endorsement.successor is not None:
                continue
            threshold = _threshold((endorsement.valid_until - now) / timedelta(days=1))
            if threshold is None:
                continue
            done = audit_for(endorsement).filter(action=AuditAction.ENDORSEMENT_EXPIRY_REMINDED)
            if any(event.data.get("days") == threshold for event in done):
                continue
            renewal_open = Application.objects.filter(renews=endorsement, state__in=OPEN_STATES).exists()
            comment = _("This endorsement ends on %(end)s (the %(days)d-day reminder).") % {
                "end": _day(endorsement.valid_until), "days": threshold}
            comment += " " + (_("Its renewal application is open.") if renewal_open else
                              _("Open its renewal at %(url)s (or with POST /api/v1/endorsements/%(id)s/renew).")
                              % {"url": settings.SITE_URL + reverse("portal:endorsement", args=[endorsement.public_id]),
                                 "id": endorsement.pk})
            event = audit_record(actor=None, action=AuditAction.ENDORSEMENT_EXPIRY_REMINDED, subject=endorsement,
                                 from_state=endorsement.state, to_state=endorsement.state, comment=comment,
                                 data={"days": threshold, "valid_until": endorsement.valid_until.isoformat()})
            notify(event)
            sent += 1
    return sent


# --- What reviewers see ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    before: Any
    after: Any


def _label(name: str) -> str:
    try:
        return str(Programme._meta.get_field(name).verbose_name)
    except Exception:  # a snapshot key that is not a field (organisation, image)
        return name.replace("_", " ")


def snapshot_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """Field by field, what differs between two programme snapshots (the endorsed one and the one
    submitted now), in the programme's field order; keys only one side has are shown too."""
    from badges.services import EDITABLE_FIELDS

    before, after = before or {}, after or {}
    order = [*EDITABLE_FIELDS, *sorted((set(before) | set(after)) - set(EDITABLE_FIELDS))]
    return [
        FieldChange(name, _label(name), before.get(name), after.get(name))
        for name in order if before.get(name) != after.get(name)
    ]


def application_changes(application: Application) -> list[FieldChange] | None:
    """What changed since the endorsed snapshot of the endorsement this application replaces, or
    None for a new application (or one not submitted yet)."""
    replaced = application.replaces
    if replaced is None or not application.snapshot:
        return None
    return snapshot_changes(replaced.application.snapshot, application.snapshot)


def previous_judgements(application: Application) -> dict[str, list[dict[str, str]]]:
    """The judgements that led to the endorsement this application replaces, by criterion code."""
    replaced = application.replaces
    if replaced is None:
        return {}
    found: dict[str, list[dict[str, str]]] = defaultdict(list)
    rows = (Judgement.objects.filter(review__application_id=replaced.application_id)
            .select_related("review__reviewer", "criterion").order_by("criterion__position", "review_id"))
    for judgement in rows:
        found[judgement.criterion.code].append({
            "reviewer": str(judgement.review.reviewer), "verdict": judgement.verdict,
            "verdict_label": str(judgement.get_verdict_display()), "comment": judgement.comment,
        })
    return dict(found)


def current_endorsement(subject: Programme | Pathway) -> Endorsement | None:
    """The endorsement a programme's or pathway's page offers to renew: the one in force (active or
    suspended), else the latest one that was not revoked; None when there is none."""
    of = {"pathway": subject} if isinstance(subject, Pathway) else {"programme": subject}
    rows = Endorsement.objects.filter(**of).exclude(state=E.REVOKED).order_by("-valid_from", "-pk")
    return rows.filter(state__in=(E.ACTIVE, E.SUSPENDED)).first() or rows.first()


def renewal_standing(endorsement: Endorsement, user: Any) -> dict[str, Any]:
    """What the portal shows of an endorsement's renewal, for a programme's endorsement page and a
    pathway's page alike (`portal/_renewal.html`): the renewal application if one was opened (and
    not withdrawn), else why none can be opened now, else whether this user may open it."""
    return {
        "endorsement": endorsement,
        "renewal": (Application.objects.filter(renews=endorsement).exclude(state=ApplicationState.WITHDRAWN)
                    .order_by("-created_at").first()),
        "renewal_refusal": renewal_refusal(endorsement),
        "renewal_opens_at": renewal_opens_at(endorsement),
        "can_renew": can_edit_for(user, endorsement.organisation),
    }


def endorsement_lineage(endorsement: Endorsement) -> list[Endorsement]:
    """Every endorsement of the endorsement's programme, oldest first (its history)."""
    return list(Endorsement.objects.filter(**same_subject(endorsement))
                .select_related("application").order_by("valid_from", "pk"))
