"""Completing a pathway: a learner's component credentials presented, verified, evaluated against
the pathway's rules, and — once complete — the pathway badge and the CLR 2.0 ClrCredential issued.

The organisation that owns the pathway opens a `Completion` for a learner (`completion_open`) and
gets a capability link to send them. Either the organisation (portal, API) or the learner (the
link's page) then presents credentials:

* `awards_present`: the learner's badges issued on this server for the pathway's programme
  components, found by recipient (e-mail address or DID);
* `credential_present`: one credential pasted or uploaded (OB 3.0 JSON, or a PNG/SVG it is baked in).

Each is verified in full (badges.presented.check_presented: signature, issuer resolved, not revoked
or suspended — its status list fetched —, within its dates, the component's achievement and declared
issuer, the learner as recipient). A refused credential raises `InvalidInput` with the reason on the
`credential` field and nothing is stored. An accepted one is kept in `Completion.presented`.

When pathways.rules.evaluate says the pathway is complete, `completion_issue` re-verifies every kept
credential (one may have been revoked since), then signs, as the pathway's organisation:

(a) an OpenBadgeCredential of the pathway's Achievement (pathways.achievements.pathway_achievement,
    which embeds the body's signed pathway EndorsementCredential), with a revocation status entry;
(b) a ClrCredential bundling the presented credentials as presented plus the pathway badge, with the
    associations: each component `isChildOf` the pathway, and `precedes` for each ordering rule.

Refused (nothing issued, nothing changed): rules unmet (409, with what is missing), no endorsement
of the pathway in force (409), a credential that no longer verifies (409, with its reason).

Afterwards the beat task (`completions_recheck`) re-verifies the components of every issued pathway
credential; one that no longer holds is recorded on the completion and the organisation is mailed.
Its decision (`completion_decide`: keep it flagged, or revoke the pathway credential) is audited.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from badges import credentials as vc
from badges.achievements import achievement_id
from badges.awards import DID_PATTERN, check_can_issue
from badges.models import Award, StatusList, StatusPurpose
from badges.presented import Learner, PresentedCheck, check_presented
from badges.status import status_allocate, status_entry
from badges.verification import credential_from_image, credential_from_json
from config.errors import InvalidInput, NotFound, WrongState
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from endorsement.credentials import in_force_q
from endorsement.models import Endorsement
from endorsement.outbox import notification_write
from institutions.keys import issuer_profile, organisation_did, signing_material
from institutions.permissions import UserLike
from institutions.staff import staff_mail_groups
from pathways.completion_models import Completion, CompletionState
from pathways.models import Pathway, PathwayComponent, RuleKind
from pathways.rules import Evaluation, Presented, evaluate
from pathways.snapshots import pathway_structure

# At most this many credentials may be kept for one completion (a pathway has far fewer components).
MAX_PRESENTED = 60


# --- the capability link ---------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def completion_link(token: str) -> str:
    return settings.SITE_URL + reverse("pathway-completion-learner", args=[token])


def completion_for_token(token: str) -> Completion:
    """The completion a capability link names; NotFound for any other token."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotFound(_("This link is not valid."))
    found = Completion.objects.filter(token_hash=_token_hash(token)).select_related(
        "pathway__organisation").first()
    if found is None:
        raise NotFound(_("This link is not valid."))
    return found


# --- opening ------------------------------------------------------------------------------------------
def completion_open(*, actor: UserLike, pathway: Pathway, learner_email: str = "", learner_name: str = "",
                    learner_did: str = "") -> tuple[Completion, str]:
    """Open a completion for one learner (the pathway organisation's issuers). Returns it and its
    capability link (shown once: only its hash is stored)."""
    check_can_issue(actor, pathway.organisation)
    email, name, did = (learner_email or "").strip(), (learner_name or "").strip(), (learner_did or "").strip()
    errors: dict[str, list[str]] = {}
    if not email and not did:
        errors["learner_email"] = [_("Give the learner's e-mail address or DID.")]
    if email:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email
        try:
            validate_email(email)
        except ValidationError:
            errors["learner_email"] = [_("Enter a valid e-mail address (name@example.org).")]
    if did and not DID_PATTERN.match(did):
        errors["learner_did"] = [_("Enter a DID: it starts with “did:”, then the method and its identifier.")]
    if len(name) > 200:
        errors["learner_name"] = [_("At most %(max)d characters.") % {"max": 200}]
    if errors:
        raise InvalidInput(_("The completion was not opened: correct the fields in error."), field_errors=errors)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        completion = Completion.objects.create(pathway=pathway, learner_email=email, learner_name=name,
                                               learner_did=did, token_hash=_token_hash(token), created_by=actor)
        audit_record(actor=actor, action=AuditAction.PATHWAY_COMPLETION_OPENED, subject=completion,
                     data={"pathway": str(pathway.public_id)})
    return completion, completion_link(token)


def completion_of_staff(actor: UserLike, public_id: Any) -> Completion:
    """A completion of the actor's organisation (its issuers), else NotFound."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound(_("No such completion.")) from None
    completion = Completion.objects.filter(public_id=key).select_related("pathway__organisation").first()
    if completion is None:
        raise NotFound(_("No such completion."))
    check_can_issue(actor, completion.pathway.organisation)
    return completion


# --- what a component expects ---------------------------------------------------------------------------
def component_expectation(component: PathwayComponent) -> tuple[str, str]:
    """(declared issuer DID or URL, achievement id) a credential for this component must carry."""
    if component.programme_id:
        programme = component.programme
        return organisation_did(programme.organisation), achievement_id(programme)
    return component.issuer_id, component.achievement_url


def _learner(completion: Completion) -> Learner:
    return Learner(email=completion.learner_email, name=completion.learner_name, did=completion.learner_did)


def _check(completion: Completion, component: PathwayComponent, credential: Mapping[str, Any]) -> PresentedCheck:
    issuer, achievement = component_expectation(component)
    result = check_presented(credential, learner=_learner(completion), expected_issuer=issuer,
                             expected_achievement_id=achievement)
    if not result.accepted and component.programme_id and result.code == "achievement-mismatch":
        # A badge of a revised version of the programme carries that version's id.
        ids = [a for a in _achievement_ids(credential) if a.startswith(achievement.rstrip("/") + "/")]
        if ids:
            result = check_presented(credential, learner=_learner(completion), expected_issuer=issuer,
                                     expected_achievement_id=ids[0])
    return result


def _achievement_ids(credential: Mapping[str, Any]) -> list[str]:
    from badges.presented import achievement_ids

    return achievement_ids(credential)


def _issued_on(credential: Mapping[str, Any]) -> str:
    for key in ("awardedDate", "validFrom", "issuanceDate"):
        value = credential.get(key)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value).date().isoformat()
            except ValueError:
                continue
    return timezone.now().date().isoformat()


def _component(completion: Completion, code: str) -> PathwayComponent:
    component = completion.pathway.components.select_related("programme__organisation").filter(code=code).first()
    if component is None:
        raise InvalidInput(_("This pathway has no component %(code)s.") % {"code": code},
                           field_errors={"component": [_("Choose one of the pathway's components.")]})
    return component


def _refuse_unless_open(completion: Completion) -> None:
    if completion.state != CompletionState.OPEN:
        raise WrongState(_("The pathway credential was already issued for this learner: nothing more can be "
                           "presented."))


def presented_credential(*, image: bytes | None = None, credential: Any = None) -> dict[str, Any]:
    """The credential presented for a component, read alike from the portal's form and the API: the
    one baked into `image` (a PNG or SVG badge) when a file was sent, else the JSON `credential` (its
    text, or an object the API has parsed already). InvalidInput on `file` or `credential` when it
    holds none."""
    if image is not None:
        return credential_from_image(image, field_name="file")
    if isinstance(credential, dict):
        credential = json.dumps(credential)
    return credential_from_json(credential if isinstance(credential, str) else "", field_name="credential")


# --- presenting --------------------------------------------------------------------------------------------
def credential_present(*, completion: Completion, component_code: str, credential: Mapping[str, Any],
                       source: str = "upload") -> PresentedCheck:
    """Present one credential for one component. Verified in full; refused → InvalidInput on
    `credential` with the reason, nothing stored. Accepted → kept, and the pathway credential issued
    at once if the rules are now met (see `completion_issue`)."""
    _refuse_unless_open(completion)
    component = _component(completion, component_code)
    result = _check(completion, component, credential)
    if not result.accepted:
        raise InvalidInput(result.reason, field_errors={"credential": [result.reason]})
    with transaction.atomic():
        locked = Completion.objects.select_for_update().get(pk=completion.pk)
        _refuse_unless_open(locked)
        credential_id = credential.get("id") if isinstance(credential.get("id"), str) else None
        kept = [p for p in locked.presented if not (p["component"] == component.code
                                                   and p.get("credential_id") == credential_id)]
        if len(kept) >= MAX_PRESENTED:
            raise InvalidInput(_("At most %(max)d credentials can be presented.") % {"max": MAX_PRESENTED},
                               field_errors={"credential": [_("Too many credentials.")]})
        kept.append({"component": component.code, "source": source, "credential": dict(credential),
                     "credential_id": credential_id, "issued_on": _issued_on(credential)})
        locked.presented = kept
        locked.save(update_fields=["presented"])
    completion.presented = locked.presented
    if completion_progress(completion).complete:
        try:
            completion_issue(completion=completion)
        except WrongState as refusal:
            # The credential is kept; the pathway credential waits (e.g. for its endorsement to be in
            # force again) and is issued by `completion_issue` later (the "issue" button and endpoint).
            return PresentedCheck(True, "kept-not-issued", _("%(kept)s The pathway credential was not issued: "
                                                             "%(reason)s") % {"kept": result.reason,
                                                                              "reason": refusal.message},
                                  result.report)
        completion.refresh_from_db()
    return result


def awards_of_learner(completion: Completion) -> list[tuple[PathwayComponent, Award]]:
    """The learner's badges on this server (not revoked) for the pathway's programme components,
    found by recipient: the e-mail address (case ignored) or the DID."""
    components = list(completion.pathway.components.filter(programme__isnull=False).select_related(
        "programme__organisation"))
    who = Q()
    if completion.learner_email:
        who |= Q(recipient_email__iexact=completion.learner_email)
    if completion.learner_did:
        who |= Q(recipient_did=completion.learner_did)
    if not who or not components:
        return []
    by_programme = {c.programme_id: c for c in components}
    awards = Award.objects.filter(who, programme_id__in=by_programme, revoked_at__isnull=True,
                                  credential__isnull=False).order_by("issued_at")
    return [(by_programme[a.programme_id], a) for a in awards]


def awards_present(*, completion: Completion) -> list[tuple[PathwayComponent, PresentedCheck]]:
    """Present every badge of the learner on this server for the pathway's programmes; each verified
    like any other. Returns each outcome (refused ones are not kept)."""
    _refuse_unless_open(completion)
    outcomes = []
    for component, award in awards_of_learner(completion):
        if completion.state != CompletionState.OPEN:
            break
        try:
            outcomes.append((component, credential_present(completion=completion, component_code=component.code,
                                                           credential=award.credential, source="award")))
        except InvalidInput as refusal:
            outcomes.append((component, PresentedCheck(False, "refused", refusal.message)))
    return outcomes


# --- progress ----------------------------------------------------------------------------------------
def _presented_items(completion: Completion) -> list[Presented]:
    return [Presented(component=p["component"], issued_on=date.fromisoformat(p["issued_on"]),
                      credential_id=p.get("credential_id")) for p in completion.presented]


def completion_progress(completion: Completion) -> Evaluation:
    """Each rule met or not, what is missing, and whether the pathway is complete."""
    return evaluate(pathway_structure(completion.pathway), _presented_items(completion))


def progress_words(completion: Completion) -> list[dict[str, Any]]:
    """The evaluation in words, rule by rule, for the progress pages and the API."""
    evaluation = completion_progress(completion)
    components = {c.code: c for c in completion.pathway.components.select_related("programme")}
    rules = {str(r.pk): r for r in completion.pathway.rules.all()}

    def names(codes: tuple[str, ...]) -> list[str]:
        return [components[c].label if c in components else c for c in codes]

    # The separators of the active language: 「、」 between names in Japanese (docs/i18n.md,
    # "Japanese typography"); ", " and "; " in English.
    between = pgettext("between the items of a list", ", ")
    pairs_between = pgettext("between the names of a list that may hold commas", "; ")
    rows = []
    for result in evaluation.rules:
        rule = rules.get(result.rule)
        if result.kind == RuleKind.ALL:
            title = _("All of these")
        elif result.kind == RuleKind.AT_LEAST_N:
            title = _("At least %(n)d of these") % {"n": rule.n if rule else 0}
        elif result.kind == RuleKind.AT_LEAST_HOURS:
            title = _("At least %(hours)s hours from these") % {"hours": rule.hours if rule else "?"}
        else:
            title = _("In this order")
        if result.met:
            missing = ""
        elif result.kind == RuleKind.AT_LEAST_HOURS:
            missing = _("%(hours)s more hours needed, from: %(names)s") % {
                "hours": result.hours_missing or Decimal(0), "names": between.join(names(result.missing)) or "—"}
        elif result.out_of_order:
            missing = _("Out of order: %(pairs)s") % {"pairs": pairs_between.join(
                _("%(a)s was not completed before %(b)s") % {"a": a, "b": b}
                for a, b in (names(pair) for pair in result.out_of_order))}
        else:
            missing = _("%(count)d more needed, from: %(names)s") % {
                "count": result.needed or len(result.missing), "names": between.join(names(result.missing))}
        rows.append({"rule": result.rule, "kind": result.kind, "title": title, "met": result.met,
                     "counted": names(result.counted), "missing": missing})
    if evaluation.capstone_met is False:
        capstone = next((c for c in components.values() if c.is_capstone), None)
        rows.append({"rule": "capstone", "kind": "capstone", "title": _("The capstone"), "met": False,
                     "counted": [], "missing": capstone.label if capstone else ""})
    return rows


# --- issuing ---------------------------------------------------------------------------------------------
def pathway_endorsement_in_force(pathway: Pathway) -> Endorsement | None:
    return Endorsement.objects.filter(in_force_q(timezone.now()), pathway=pathway).order_by("-valid_from").first()


def completion_url(completion: Completion) -> str:
    """The pathway badge's id: its public page (which answers its JSON to a JSON-LD client)."""
    return settings.SITE_URL + reverse("pathway-credential", args=[completion.public_id])


def clr_url(completion: Completion) -> str:
    return settings.SITE_URL + reverse("pathway-clr", args=[completion.public_id])


def _associations(completion: Completion, pathway_id: str, presented: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each presented component's achievement `isChildOf` the pathway; A `precedes` B for each
    consecutive pair of an ordering rule."""
    achievement_of: dict[str, str] = {}
    for item in presented:
        ids = _achievement_ids(item["credential"])
        if ids:
            achievement_of.setdefault(item["component"], ids[0])
    associations = [vc.build_association(association_type="isChildOf", source_id=a, target_id=pathway_id)
                    for a in dict.fromkeys(achievement_of.values())]
    for rule in completion.pathway.rules.filter(kind=RuleKind.ORDER).prefetch_related("members__component"):
        codes = [m.component.code for m in rule.members.all()]
        for before, after in pairwise(codes):
            if before in achievement_of and after in achievement_of:
                associations.append(vc.build_association(association_type="precedes",
                                                         source_id=achievement_of[before],
                                                         target_id=achievement_of[after]))
    return associations


def completion_issue(*, completion: Completion) -> Completion:
    """Issue the pathway badge and the ClrCredential once the rules are met (see the module's words).
    Refused with nothing changed: not open, rules unmet, a kept credential no longer verifying, no
    endorsement of the pathway in force."""
    _refuse_unless_open(completion)
    for item in completion.presented:
        component = _component(completion, item["component"])
        result = _check(completion, component, item["credential"])
        if not result.accepted:
            raise WrongState(_("The credential presented for %(component)s no longer holds: %(reason)s") % {
                "component": component.label, "reason": result.reason})
    evaluation = completion_progress(completion)
    if not evaluation.complete:
        missing = "; ".join(f"{row['title']}: {row['missing']}" for row in progress_words(completion)
                            if not row["met"]) or "; ".join(evaluation.problems)
        raise WrongState(_("The pathway's rules are not met yet: %(missing)s") % {"missing": missing})
    pathway = completion.pathway
    endorsement = pathway_endorsement_in_force(pathway)
    if endorsement is None:
        raise WrongState(_("This pathway has no endorsement in force: its credential cannot be issued."))
    from pathways.achievements import pathway_achievement  # path1's module: the published Achievement

    achievement = pathway_achievement(pathway, None)
    if achievement is None:
        raise WrongState(_("This pathway has no endorsement in force: its credential cannot be issued."))
    organisation = pathway.organisation
    with transaction.atomic():
        locked = Completion.objects.select_for_update().get(pk=completion.pk)
        _refuse_unless_open(locked)
        now = timezone.now().replace(microsecond=0)
        private_key, method = signing_material(organisation)
        issuer = issuer_profile(organisation)
        identities = []
        if locked.learner_email:
            identities.append(vc.build_email_identity(locked.learner_email))
        if locked.learner_name:
            identities.append(vc.build_name_identity(locked.learner_name, hashed=True))
        allocation = status_allocate(organisation, StatusPurpose.REVOCATION)
        badge = vc.sign(vc.build_open_badge_credential(
            id=completion_url(locked), issuer=issuer, achievement=achievement, valid_from=now, awarded_date=now,
            recipient_did=locked.learner_did or None, recipient_identity=identities,
            credential_status=status_entry(allocation)), private_key, method, now)
        presented = list(locked.presented)
        clr = vc.sign(vc.build_clr_credential(
            id=clr_url(locked), issuer=issuer,
            name=_("Comprehensive Learner Record: %(pathway)s") % {"pathway": pathway},
            description=_("The credentials %(learner)s presented for the pathway %(pathway)s, verified by "
                          "%(organisation)s, and the pathway credential they earned.") % {
                "learner": locked.learner_name or locked.learner_email or locked.learner_did,
                "pathway": pathway, "organisation": organisation.name},
            valid_from=now, awarded_date=now, credentials=[p["credential"] for p in presented] + [badge],
            learner_did=locked.learner_did or None, learner_identity=identities, achievements=[achievement],
            associations=_associations(locked, achievement["id"], presented), partial=False,
            credential_status=status_entry(allocation)), private_key, method, now)
        locked.badge, locked.clr, locked.status, locked.endorsement = badge, clr, allocation, endorsement
        locked.state, locked.issued_at = CompletionState.ISSUED, now
        locked.save(update_fields=["badge", "clr", "status", "endorsement", "state", "issued_at"])
        audit_record(actor=locked.created_by, action=AuditAction.PATHWAY_CREDENTIAL_ISSUED, subject=locked,
                     data={"pathway": str(pathway.public_id), "credential": badge["id"], "clr": clr["id"],
                           "components": [p["component"] for p in presented]})
        enqueue_on_commit("badges.tasks.publish_status_list", allocation.status_list_id)
    return locked


# --- after issuance -------------------------------------------------------------------------------------
def _problems(completion: Completion) -> str:
    """What no longer holds among the completion's component credentials, in the active language
    ("" when all hold)."""
    problems = []
    for item in completion.presented:
        component = completion.pathway.components.filter(code=item["component"]).select_related(
            "programme__organisation").first()
        if component is None:
            continue
        result = _check(completion, component, item["credential"])
        if not result.accepted:
            problems.append(f"{component.label}: {result.reason}")
    return " ".join(problems)


def completion_recheck(completion: Completion) -> str:
    """Re-verify an issued completion's component credentials. A new problem is recorded and the
    organisation mailed (once per problem); returns the problem in words, or "" when all hold."""
    problem = _problems(completion)
    with transaction.atomic():
        locked = Completion.objects.select_for_update().get(pk=completion.pk)
        locked.checked_at = timezone.now()
        fields = ["checked_at"]
        if problem and problem != locked.component_problem and locked.state in (CompletionState.ISSUED,
                                                                                 CompletionState.FLAGGED):
            locked.component_problem, locked.component_problem_at = problem, locked.checked_at
            fields += ["component_problem", "component_problem_at"]
            audit_record(actor=None, action=AuditAction.PATHWAY_COMPONENT_FAILED, subject=locked, comment=problem,
                         data={"pathway": str(locked.pathway.public_id), "credential": (locked.badge or {}).get("id")})
            _tell_organisation(locked, problem)
        locked.save(update_fields=fields)
    return problem


def _tell_organisation(completion: Completion, problem: str) -> None:
    """Mail the organisation's people that a component no longer holds, one mail per language they
    read (institutions.staff.staff_mail_groups). The problem is said again in each other language
    than the active one (the check re-run under that language: a new problem is rare)."""
    from endorsement.notifications import _organisation_people

    recipients = _organisation_people(completion.pathway.organisation)
    page = settings.SITE_URL + reverse("pathway-completion-staff", args=[completion.public_id])
    key = f"pathway-component-failed:{completion.public_id}:{hashlib.sha256(problem.encode()).hexdigest()[:16]}"
    active = translation.get_language()
    for index, (language, group) in enumerate(staff_mail_groups(recipients)):
        with translation.override(language):
            words = {"learner": completion.learner_name or completion.learner_email or completion.learner_did,
                     "pathway": completion.pathway, "page": page,
                     "problem": problem if language == active else _problems(completion) or problem}
            subject = _("A component of a pathway credential no longer holds: %(pathway)s") % words
            body = _("A credential that %(learner)s presented for the pathway %(pathway)s no longer holds:\n\n"
                     "%(problem)s\n\nDecide whether the pathway credential stays (flagged) or is revoked: "
                     "%(page)s") % words
        row = notification_write(key=key if index == 0 else f"{key}:{language}", recipients=group,
                                 subject=subject, body=body)
        if row is not None:
            enqueue_on_commit("pathways.completion_tasks.deliver_notification", row.pk)


def completions_recheck(limit: int = 200) -> int:
    """Beat: re-check the issued completions checked least recently. Returns how many found a problem."""
    due = Completion.objects.filter(state__in=[CompletionState.ISSUED, CompletionState.FLAGGED]).select_related(
        "pathway__organisation").order_by(F("checked_at").asc(nulls_first=True), "pk")[:limit]
    return sum(1 for completion in due if completion_recheck(completion))


DECISIONS = ("flag", "revoke")


def completion_decide(*, actor: UserLike, completion: Completion, decision: str, comment: str = "") -> Completion:
    """The organisation's decision on an issued pathway credential whose component no longer holds:
    `flag` (it stays valid, marked as such) or `revoke` (its status bit set; the CLR shares it).
    Audited with the actor and the comment. Refused: another decision word, nothing to decide."""
    check_can_issue(actor, completion.pathway.organisation)
    comment = (comment or "").strip()
    if decision not in DECISIONS:
        raise InvalidInput(_("Choose whether to flag or revoke."),
                           field_errors={"decision": [_("Choose flag or revoke.")]})
    if decision == "revoke" and not comment:
        raise InvalidInput(_("Give the reason for revoking."), field_errors={"comment": [_("This field is required.")]})
    with transaction.atomic():
        locked = Completion.objects.select_for_update().get(pk=completion.pk)
        if locked.state not in (CompletionState.ISSUED, CompletionState.FLAGGED):
            raise WrongState(_("Only an issued pathway credential can be flagged or revoked."))
        before = locked.state
        if decision == "flag":
            locked.state = CompletionState.FLAGGED
            locked.save(update_fields=["state"])
            action = AuditAction.PATHWAY_CREDENTIAL_FLAGGED
        else:
            locked.state, locked.revoked_at, locked.revocation_reason = CompletionState.REVOKED, timezone.now(), comment
            locked.save(update_fields=["state", "revoked_at", "revocation_reason"])
            action = AuditAction.PATHWAY_CREDENTIAL_REVOKED
            enqueue_on_commit("badges.tasks.publish_status_list", locked.status.status_list_id)
        audit_record(actor=actor, action=action, subject=locked, from_state=before, to_state=locked.state,
                     comment=comment or locked.component_problem,
                     data={"credential": (locked.badge or {}).get("id"), "problem": locked.component_problem})
    return locked


def revoked_completion_indices(status_list: StatusList) -> list[int]:
    """Revocation lists: the entries of revoked pathway credentials (badges.status.register_set_bits)."""
    return list(Completion.objects.filter(status__status_list=status_list, revoked_at__isnull=False)
                .values_list("status__index", flat=True))
