"""Badges awarded to learners: each `Award` is an OpenBadgeCredential signed by the organisation,
carrying the body's EndorsementCredential inside its Achievement.

Rules (docs/awards.md in the issue): only staff with the issuer role (owner or issuer) of the
programme's organisation award, and only under an endorsement in force (active, signed,
published, not expired). Input is checked field by field before anything is written. Every
credential holds one revocation entry on the organisation's status list; the list is re-published
after commit whenever an award is issued or revoked, and the learner is mailed the link to their
badge once.

Cost: what is the same for every credential of a programme (the issuer Profile, the Achievement
with the embedded endorsement, the decrypted signing key) is built once in an `AwardSigner` and
reused for every row of a batch chunk; canonicalization inside `vc.sign` is what remains per row.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from badges import credentials as vc
from badges.achievements import achievement_document
from badges.archive import (
    PlannedCopy,
    UploadLike,
    copies_plan,
    copies_save,
    evidence_files_clean,
    new_files_removed_on_failure,
)
from badges.claims import claim_token_new, claim_url
from badges.evidence import LinkSnapshot, links_snapshot
from badges.mail_language import chosen_languages, language_clean, mail_language
from badges.models import Award, EvidenceCheck, Programme, StatusAllocation, StatusList, StatusPurpose
from badges.status import status_allocate, status_entry
from badges.status_publish import status_lists_issued_in_batch, status_lists_publish
from badges.uris import UriError, evidence_uri
from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from config.i18n import in_language
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from endorsement.credentials import endorsement_in_force
from endorsement.models import ApplicationState, Endorsement, EndorsementState, Notification
from endorsement.outbox import notification_deliver, notifications_deliver_many
from endorsement.registry import registry_changed
from institutions.keys import issuer_profile, signing_material
from institutions.models import Organisation, RecipientNames
from institutions.permissions import UserLike, can_issue_for, is_member_of
from webhooks.events import webhooks_for_awards_issued

MAX_EMAIL = 254
MAX_DID = 300
MAX_NAME = 200
MAX_URL = 1000
MAX_NARRATIVE = 10_000
MAX_REASON = 2_000
# Evidence links of a batch chunk fetched by one task (each fetch is time-limited, so a task stays
# well within the broker's visibility timeout).
EVIDENCE_GROUP = 25

# DID Core §3.1: did:<method-name>:<method-specific-id>, the id made of idchars and ':' separators,
# never ending in ':'.
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
DID_PATTERN = re.compile(rf"^did:[a-z0-9]+:(?:{_IDCHAR}*:)*{_IDCHAR}+$")
# Control characters other than tab and line breaks canonicalize differently in pyld and RDFC-1.0
# (interop note 4); single-line fields refuse those too.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK_OR_TAB = re.compile(r"[\t\n\r]")

FIELDS = ("recipient_email", "recipient_did", "recipient_name", "evidence_url", "evidence_narrative",
          "recipient_language")


# --- input --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipient:
    """One learner and the evidence of their achievement, checked by `recipient_clean`."""

    email: str = ""
    did: str = ""
    name: str = ""
    evidence_url: str = ""
    evidence_narrative: str = ""
    language: str = ""  # of the learner's mails (badges.mail_language); "" for the site's

    def as_row(self) -> dict[str, str]:
        return {"recipient_email": self.email, "recipient_did": self.did, "recipient_name": self.name,
                "evidence_url": self.evidence_url, "evidence_narrative": self.evidence_narrative,
                "recipient_language": self.language}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Recipient:
        return cls(email=row.get("recipient_email", ""), did=row.get("recipient_did", ""),
                   name=row.get("recipient_name", ""), evidence_url=row.get("evidence_url", ""),
                   evidence_narrative=row.get("evidence_narrative", ""),
                   language=row.get("recipient_language", ""))

    @property
    def key(self) -> str:
        """What names the learner, to find the same person twice in one batch."""
        return self.did or vc.normalize_email(self.email)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError
    return value.strip()


def recipient_clean(data: Mapping[str, Any]) -> tuple[Recipient | None, dict[str, list[str]]]:
    """Check one recipient's fields (keys as in FIELDS); return the Recipient, or None and the
    errors by field. An e-mail, a DID or both name the learner; the evidence is optional, but its
    URL must be an absolute http(s) URL, and is normalised as a URI (`badges.uris.evidence_uri`)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for field in FIELDS:
        try:
            values[field] = _text(data.get(field))
        except TypeError:
            errors[field] = [_("Give this as text.")]
            values[field] = ""
    for field, value in values.items():
        multi_line = field == "evidence_narrative"
        if _CONTROL.search(value) or (not multi_line and _LINE_BREAK_OR_TAB.search(value)):
            errors.setdefault(field, []).append(_("Remove the control characters (or line breaks) from this field."))

    email, did = values["recipient_email"], values["recipient_did"]
    if not email and not did and "recipient_email" not in errors and "recipient_did" not in errors:
        errors["recipient_email"] = [_("Give the learner's e-mail address or DID.")]
    if email and "recipient_email" not in errors:
        try:
            if len(email) > MAX_EMAIL:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            errors["recipient_email"] = [_("Enter a valid e-mail address (name@example.org).")]
    if did and "recipient_did" not in errors and (len(did) > MAX_DID or not DID_PATTERN.match(did)):
        errors["recipient_did"] = [
            _("Enter a DID: it starts with “did:”, then the method and its identifier (did:example:123), "
              "at most %(max)d characters.") % {"max": MAX_DID}
        ]
    if len(values["recipient_name"]) > MAX_NAME and "recipient_name" not in errors:
        errors["recipient_name"] = [_("At most %(max)d characters.") % {"max": MAX_NAME}]
    url = values["evidence_url"]
    if url and "evidence_url" not in errors:
        if len(url) > MAX_URL:
            errors["evidence_url"] = [
                _("Enter an absolute http:// or https:// URL of at most %(max)d characters.") % {"max": MAX_URL}
            ]
        else:
            # Signed as the normalised URI every JSON-LD processor reads alike (badges.uris).
            try:
                url = evidence_uri(url)
            except UriError as error:
                errors["evidence_url"] = [error.message]
    if len(values["evidence_narrative"]) > MAX_NARRATIVE and "evidence_narrative" not in errors:
        errors["evidence_narrative"] = [_("At most %(max)d characters.") % {"max": MAX_NARRATIVE}]
    language = ""
    if "recipient_language" not in errors:
        try:
            language = language_clean(values["recipient_language"])
        except ValueError as error:
            errors["recipient_language"] = [str(error)]
    if errors:
        return None, errors
    return Recipient(email=email, did=did, name=values["recipient_name"], evidence_url=url,
                     evidence_narrative=values["evidence_narrative"], language=language), {}


# --- who may award, and under what ----------------------------------------------------------------
def check_can_issue(actor: UserLike, organisation: Organisation) -> None:
    """Issuer role of the organisation, or: 403 for its other staff, 404 for everyone else."""
    if can_issue_for(actor, organisation):
        return
    if is_member_of(actor, organisation):
        raise NotPermitted(_("Only the organisation's owners and issuers may award or revoke badges."))
    raise NotFound(_("No such programme."))


def endorsement_for_awarding(programme: Programme) -> Endorsement:
    """The endorsement badges are awarded under, or WrongState saying why there is none."""
    if not programme.organisation.is_active_member:
        raise WrongState(_("Your organisation's membership is not active: no badges can be awarded."))
    endorsement = endorsement_in_force(programme.pk)
    if endorsement is not None:
        return endorsement
    latest = Endorsement.objects.filter(programme=programme).select_related("application").first()
    if latest is None:
        message = _("This programme has no endorsement: badges can be awarded only under an endorsement in force.")
    elif latest.state == EndorsementState.SUSPENDED:
        message = _("The endorsement of this programme is suspended: no badges can be awarded until the body "
                    "reinstates it.")
    elif latest.state == EndorsementState.REVOKED:
        message = _("The endorsement of this programme was revoked: no badges can be awarded under it.")
    elif latest.state == EndorsementState.EXPIRED or latest.valid_until <= timezone.now():
        message = _("The endorsement of this programme expired on %(date)s: apply for renewal to award badges "
                    "again.") % {"date": f"{latest.valid_until:%Y-%m-%d}"}
    elif latest.application.state != ApplicationState.PUBLISHED:
        message = _("The endorsement of this programme is not published in the registry yet: badges can be "
                    "awarded once it is.")
    else:
        message = _("The endorsement credential of this programme is not signed yet: try again in a minute.")
    raise WrongState(message)


# --- building and signing -----------------------------------------------------------------------
def award_url(public_id: uuid.UUID | str) -> str:
    """The award's id: the learner's page, which also answers its JSON to a JSON-LD client."""
    return settings.SITE_URL + reverse("awards:badge", args=[public_id])


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (the month's last day if shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _name_identity(name: str, policy: str) -> dict[str, Any] | None:
    """The learner's name as the organisation chose (`Organisation.recipient_names`): in plain text,
    as OB 3.0 allows (identityType "name", hashed false; the default: the badge is theirs to show, and
    a page naming nobody would prove nothing to whoever they show it), hashed with a salt like the
    e-mail address (hashed true), or not at all."""
    if not name or policy == RecipientNames.OMIT:
        return None
    return vc.build_name_identity(name, hashed=policy == RecipientNames.HASH)


class AwardSigner:
    """Everything constant for one programme's awards: built once per request or batch chunk."""

    def __init__(self, programme: Programme, endorsement: Endorsement, actor: Any) -> None:
        self.programme = programme
        self.organisation = programme.organisation
        self.endorsement = endorsement
        self.actor = actor
        self.issuer = issuer_profile(self.organisation)
        # The endorsed version's content, not the programme as it is being edited: a revision in
        # draft or in review changes nothing in the badges issued meanwhile.
        self.content = endorsement.application.snapshot or {}
        self.achievement = achievement_document(
            programme, self.content, endorsements=[endorsement.credential], version=endorsement.version
        )
        self.private_key, self.verification_method = signing_material(self.organisation)

    def award(self, recipient: Recipient, allocation: StatusAllocation, *, batch_id: int | None = None,
              batch_row: int | None = None, uploads: Sequence[PlannedCopy] = ()) -> Award:
        """An unsaved Award holding its signed credential. Each planned upload is an Evidence entry
        whose id is its archived copy, and a `relatedResource` entry with its digest
        (badges.archive, docs/evidence.md)."""
        public_id = uuid.uuid4()
        now = timezone.now().replace(microsecond=0)
        # The badge's own validity (the endorsed version's validity_months), not capped at the
        # endorsement's end: a verifier reports the embedded endorsement as "endorsed when issued"
        # (docs/credentials.md).
        months = self.content.get("validity_months")
        valid_until = add_months(now, int(months)) if months else None
        email_identity = vc.build_email_identity(recipient.email) if recipient.email else None
        name_identity = _name_identity(recipient.name, self.organisation.recipient_names)
        identities = [i for i in (email_identity, name_identity) if i]
        evidence = []
        if recipient.evidence_url or recipient.evidence_narrative:
            evidence.append(vc.build_evidence(id=recipient.evidence_url or None,
                                              narrative=recipient.evidence_narrative or None))
        evidence += [vc.build_evidence(id=plan.url, name=plan.name) for plan in uploads if plan.kind == 'upload']
        unsigned = vc.build_open_badge_credential(
            id=award_url(public_id),
            issuer=self.issuer,
            achievement=self.achievement,
            valid_from=now,
            valid_until=valid_until,
            awarded_date=now,
            recipient_did=recipient.did or None,
            recipient_identity=identities,
            evidence=evidence,
            credential_status=status_entry(allocation),
        )
        if uploads:
            unsigned["relatedResource"] = [plan.related_resource() for plan in uploads]
        return Award(
            public_id=public_id, programme=self.programme, organisation=self.organisation,
            endorsement=self.endorsement, batch_id=batch_id, batch_row=batch_row,
            recipient_did=recipient.did, recipient_email=recipient.email, recipient_name=recipient.name,
            identity=email_identity, evidence_url=recipient.evidence_url,
            evidence_narrative=recipient.evidence_narrative, recipient_language=recipient.language,
            issued_by=self.actor, valid_from=now,
            valid_until=valid_until, status=allocation,
            credential=vc.sign(unsigned, self.private_key, self.verification_method, now),
        )


def after_issue(awards: Iterable[Award], snapshots: Mapping[str, LinkSnapshot] | None = None,
                mails: Sequence[Notification] | None = None) -> None:
    """Inside the issuing transaction, for awards just saved: record each evidence link's check
    (its first fetch, made before signing, from `snapshots`; a link without one is fetched once after
    commit, badges.evidence) and each learner's mail (the outbox; `mails` planned by
    `award_emails_plan` before the awards were inserted, see `award_emails_write`); on commit, tell the organisation
    of a single award's link that did not answer, publish the status lists the new entries are on (a
    new list must be served before anyone checks it) and send the mails. Whatever the tasks after
    commit never do, the recovery sweeps do (badges.recovery, endorsement.outbox)."""
    from badges.evidence import evidence_check_create, evidence_checks_from_snapshots
    awards = list(awards)
    snapshots = snapshots or {}
    checked = evidence_checks_from_snapshots(awards, snapshots)
    done = {c.award_id for c in checked}
    rest = [a for a in awards if a.pk not in done]
    single = len(awards) == 1 and awards[0].batch_id is None
    if single and checked and checked[0].standing != checked[0].notified_standing:
        # A batch's links are told in one message when the batch is done (award_batch_progress).
        enqueue_on_commit("badges.tasks.notify_evidence", awards[0].organisation_id)
    if single and rest:
        evidence_check_create(rest[0])  # a single award: fetched (and told) on its own
    elif rest:
        # A batch chunk: what `evidence_check_create` does row by row, in one INSERT. These awards
        # were created in this transaction, so none of them can have a check yet. The first fetches
        # go out EVIDENCE_GROUP links to a task, as the e-mails go one task per chunk: a task per
        # link cost more to send and to run than issuing the badge (bench/issuance.py).
        linked = [a for a in rest if a.evidence_url]
        EvidenceCheck.objects.bulk_create([EvidenceCheck(award=a, url=a.evidence_url) for a in linked])
        for start in range(0, len(linked), EVIDENCE_GROUP):
            enqueue_on_commit("badges.tasks.fetch_evidence_group", [a.pk for a in linked[start:start + EVIDENCE_GROUP]])
    lists = {a.status.status_list_id for a in awards}
    if any(a.batch_id is not None for a in awards):
        status_lists_issued_in_batch(lists)  # debounced, and once when the batch is done
    else:
        status_lists_publish(lists)
    webhooks_for_awards_issued(awards)  # the organisation's own systems (webhooks.events)
    mailed = award_emails_write(awards, mails)
    if mailed:
        enqueue_on_commit("badges.tasks.send_award_emails", mailed)
    registry_changed({a.programme_id for a in awards})  # its issuance counts (debounced: endorsement.registry)


# --- services -----------------------------------------------------------------------------------
def award_issue(
    *,
    actor: UserLike,
    programme: Programme,
    recipient_email: str = "",
    recipient_did: str = "",
    recipient_name: str = "",
    evidence_url: str = "",
    evidence_narrative: str = "",
    evidence_files: Sequence[UploadLike] = (),
    recipient_language: str = "",
) -> Award:
    """Award one badge. Refused, with nothing written: to anyone but the organisation's issuers
    (403/404), for bad input (400, by field; `evidence_files` checked by badges.archive), with no
    endorsement in force (409). Uploaded evidence files, and the evidence link as fetched just before
    signing (a WARC record), are archived and bound into the signed credential; a link that does not
    answer is signed without a copy and the organisation told. After commit the status list is
    published and the learner mailed."""
    check_can_issue(actor, programme.organisation)
    recipient, errors = recipient_clean({
        "recipient_email": recipient_email, "recipient_did": recipient_did, "recipient_name": recipient_name,
        "evidence_url": evidence_url, "evidence_narrative": evidence_narrative,
        "recipient_language": recipient_language,
    })
    files, file_errors = evidence_files_clean(list(evidence_files))
    if recipient is None or file_errors:
        raise InvalidInput(_("The badge was not awarded: correct the fields in error."),
                           field_errors={**errors, **file_errors})
    planned = copies_plan(files)
    endorsement_for_awarding(programme)  # refused before the link is fetched for nothing
    # The link is fetched now, before signing and outside the transaction (no lock is held while it
    # waits, at most EVIDENCE_FETCH_TIMEOUT), so that its WARC copy is named in the signature.
    snapshots = links_snapshot([recipient.evidence_url])
    web = [snapshots[recipient.evidence_url].copy] if recipient.evidence_url else []
    planned = [c for c in web if c is not None] + planned
    with new_files_removed_on_failure(), transaction.atomic():
        endorsement = endorsement_for_awarding(programme)
        signer = AwardSigner(programme, endorsement, actor)
        award = signer.award(recipient, status_allocate(programme.organisation, StatusPurpose.REVOCATION),
                             uploads=planned)
        mails = award_emails_plan([award])  # its claim token is inserted with it
        award.save()
        copies_save(award, planned)
        after_issue([award], snapshots, mails)
        audit_record(actor=actor, action=AuditAction.AWARD_ISSUED, subject=award,
                     data={"programme": str(programme.public_id), "credential": award.credential["id"]})
    return award


def award_insert(awards: list[Award]) -> list[Award]:
    """Save awards of a batch chunk; a row another run of the chunk saved first (the unique batch
    + row) is skipped. Returns the awards saved now. Runs inside the caller's transaction."""
    try:
        with transaction.atomic():
            Award.objects.bulk_create(awards)
        return awards
    except IntegrityError:
        pass
    saved = []
    for award in awards:
        try:
            with transaction.atomic():
                award.save(force_insert=True)
            saved.append(award)
        except IntegrityError:
            award.pk = None
    return saved


def award_revoke(*, actor: UserLike, award: Award, reason: str) -> Award:
    """Revoke a badge (issuers of its organisation; a reason is required). After commit its status
    list is re-published with the bit set. A revoked badge stays revoked: revoking again is 409."""
    check_can_issue(actor, award.organisation)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for revoking."), field_errors={"reason": [_("This field is required.")]})
    if len(reason) > MAX_REASON or _CONTROL.search(reason):
        raise InvalidInput(_("The reason is not acceptable."), field_errors={
            "reason": [_("At most %(max)d characters, without control characters.") % {"max": MAX_REASON}]})
    with transaction.atomic():
        award = Award.objects.select_for_update().get(pk=award.pk)
        if award.revoked_at is not None:
            raise WrongState(_("This badge was already revoked on %(date)s.")
                             % {"date": f"{award.revoked_at:%Y-%m-%d}"})
        award.revoked_at = timezone.now()
        award.revocation_reason = reason
        award.save(update_fields=["revoked_at", "revocation_reason"])
        # The audit event records who revoked it and why.
        audit_record(actor=actor, action=AuditAction.AWARD_REVOKED, subject=award, comment=reason,
                     data={"credential": award.credential["id"]})
        status_lists_publish([award.status.status_list_id])  # at once: never debounced
        registry_changed([award.programme_id])
    return award


# --- standing and reads ---------------------------------------------------------------------------
class Standing:
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"


def award_standing(award: Award, now: datetime | None = None) -> str:
    """valid, revoked or expired (past its validUntil)."""
    if award.revoked_at is not None:
        return Standing.REVOKED
    if award.valid_until is not None and award.valid_until <= (now or timezone.now()):
        return Standing.EXPIRED
    return Standing.VALID


# The columns an award list shows (the API's AwardOutput, the programme's awards page): never the
# signed credential, the hashed identity, nor the batch's `rows` (a batch of 3,000 learners holds
# them all, and loading them once per listed award made one page cost gigabytes).
AWARD_LIST_FIELDS = (
    "id", "public_id", "programme_id", "organisation_id", "batch_id", "batch_row", "recipient_did", "recipient_email",
    "recipient_name", "recipient_language", "evidence_url", "evidence_narrative", "issued_at", "valid_from",
    "valid_until", "revoked_at", "revocation_reason", "programme__public_id", "batch__public_id",
)


def awards_of_programme(programme: Programme, search: str = "") -> QuerySet[Award]:
    """The programme's awards, newest first, with only the columns a list shows. `search` keeps
    those whose learner's name or e-mail contains every word of it, whatever the case and the
    width of the characters (「山田　太郎」 finds 山田太郎, ＹＡＭＡＤＡ finds yamada@…)."""
    awards = Award.objects.filter(programme=programme)
    for word in unicodedata.normalize("NFKC", search).split()[:10]:
        awards = awards.filter(Q(recipient_name__icontains=word) | Q(recipient_email__icontains=word))
    return awards.select_related("batch", "programme").only(*AWARD_LIST_FIELDS).order_by("-issued_at", "-id")


def award_public(public_id: Any) -> Award:
    """An award for its public page: anyone holding the link may see it, unless its learner has
    hidden it (then it answers as if there were none: 404, docs/learners.md)."""
    award = (
        Award.objects.select_related("programme", "organisation", "endorsement__application", "status")
        .filter(public_id=public_id, credential__isnull=False, hidden_at__isnull=True).first()
    )
    if award is None:
        raise NotFound(_("No such badge."))
    return award


def award_of_staff(actor: UserLike, public_id: Any) -> Award:
    """An award for its organisation's staff; anyone else's answers 404."""
    award = Award.objects.select_related("programme__organisation", "organisation", "batch", "status").filter(
        public_id=public_id).first()
    if award is None or not is_member_of(actor, award.organisation):
        raise NotFound(_("No such badge."))
    return award


# --- e-mail -------------------------------------------------------------------------------------
def _body_name() -> str:
    body = Organisation.objects.filter(is_certification_body=True).values_list("name", flat=True).first()
    return body or settings.BODY_NAME


def _email_key(award: Award) -> str:
    return f"award-issued:{award.public_id}"


def award_email(award: Award, *, body_name: str, language: str) -> Notification:
    """The mail telling the learner of `award` the link to their badge and its claim link, written in
    `language` (badges.mail_language.mail_language), as a pending outbox row (not saved). A new claim
    token is set on the award (saved by the caller)."""
    with translation.override(language):
        claim = claim_url(claim_token_new(award))
        name = in_language(award.programme, "name").text or award.programme.name
        subject = _("Your badge: %(name)s") % {"name": name}
        greeting = (_("Hello %(name)s,") % {"name": award.recipient_name} if award.recipient_name
                    else _("Hello,"))
        body = "\n".join([
            greeting,
            "",
            _("%(issuer)s has awarded you the badge “%(name)s”.") % {
                "issuer": award.organisation.name, "name": name},
            _("Its programme is endorsed by %(body)s.") % {"body": body_name},
            "",
            _("Your badge, to view, download (as an image or as JSON) and share:"),
            award_url(award.public_id),
            "",
            _("To keep it with your other badges in a learner account (no password: you sign in with a link "
              "sent to this address), claim it within %(days)d days with this link, which works once:")
            % {"days": settings.CLAIM_LINK_DAYS},
            claim,
        ])
    return Notification(key=_email_key(award), recipients=[award.recipient_email], subject=subject[:300],
                        body=body)


def award_emails_plan(awards: Iterable[Award]) -> list[Notification]:
    """The mails telling each learner with an e-mail address the link to their badge, each in the
    learner's language (`award_email`), not saved. Sets a new claim token on each of those awards:
    call it before the awards are inserted, so that their tokens go in with them."""
    awards = [a for a in awards if a.recipient_email]
    if not awards:
        return []
    body_name = _body_name()
    chosen = chosen_languages(a.recipient_email for a in awards)
    return [award_email(award, body_name=body_name,
                        language=mail_language(award.recipient_email, award.recipient_language, chosen))
            for award in awards]


def award_emails_write(awards: Iterable[Award], mails: Sequence[Notification] | None = None) -> list[int]:
    """Write the mails of saved awards pending in the issuing transaction (the outbox,
    endorsement.outbox). `mails`: those `award_emails_plan` made before the awards were inserted
    (only the saved awards' are written); without them, they are made now and the new claim tokens
    written by an UPDATE (awards saved before, e.g. issued before the outbox existed). Returns the
    ids of the awards that have one."""
    awards = [a for a in awards if a.recipient_email]
    if not awards:
        return []
    if mails is None:
        rows = award_emails_plan(awards)
        Award.objects.bulk_update(awards, ["claim_token_sha256", "claim_expires_at"])
    else:
        keys = {_email_key(a) for a in awards}
        rows = [mail for mail in mails if mail.key in keys]
    # New awards have no mail yet; a key written before (never, in practice) is left as it is.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return [a.pk for a in awards]


def award_email_send(award_id: int) -> bool:
    """Mail the learner the link to their badge, once: the pending outbox row written when it was
    issued is delivered and marked sent (endorsement.outbox). A failed send stays pending for the
    outbox sweep. True if sent now."""
    award = Award.objects.select_related("programme", "organisation").filter(pk=award_id).first()
    if award is None or not award.recipient_email:
        return False
    row = Notification.objects.filter(key=_email_key(award)).only("pk").first()
    if row is None:  # issued before the outbox existed
        with transaction.atomic():
            award_emails_write([award])
        row = Notification.objects.filter(key=_email_key(award)).only("pk").first()
    return notification_deliver(row.pk)


def award_emails_send(award_ids: Sequence[int], *, claim: str = "") -> int:
    """`award_email_send` for the awards of a batch chunk, in bulk: their outbox rows read in two
    queries and delivered over one connection to the mail server (endorsement.outbox), each learner
    once. Returns how many were sent now; raises `MailServerUnavailable` (after marking the ones
    sent) when the connection fails, for the task to retry the others. `claim`: the task's id
    (`notifications_deliver_many`)."""
    keys = {f"award-issued:{public_id}": pk for pk, public_id in
            Award.objects.filter(pk__in=list(award_ids)).exclude(recipient_email="").values_list("pk", "public_id")}
    found = dict(Notification.objects.filter(key__in=list(keys)).values_list("key", "pk"))
    missing = [pk for key, pk in keys.items() if key not in found]
    if missing:  # issued before the outbox existed
        with transaction.atomic():
            award_emails_write(Award.objects.select_related("programme", "organisation").filter(pk__in=missing))
        found = dict(Notification.objects.filter(key__in=list(keys)).values_list("key", "pk"))
    return notifications_deliver_many(sorted(found.values()), claim=claim)


def revoked_award_indices(status_list: StatusList) -> Iterable[int]:
    """Revocation lists: the entries of revoked awards."""
    return Award.objects.filter(status__status_list=status_list, revoked_at__isnull=False).values_list(
        "status__index", flat=True
    )
