"""The body's EndorsementCredential for an endorsed programme: signed once, served at a stable URL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from badges import credentials as vc
from badges.achievements import achievement_document, achievement_id, other_edition
from badges.models import StatusList, StatusPurpose
from badges.status import status_allocate, status_entry
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from endorsement.models import ApplicationState, Endorsement, EndorsementState
from institutions.keys import issuer_profile, signing_material
from institutions.models import Organisation
from pathways.achievements import pathway_achievement_id


def endorsement_credential_url(endorsement: Endorsement) -> str:
    return settings.SITE_URL + reverse("endorsement-credential", args=[endorsement.public_id])


def criteria_table_document(table: Any) -> dict[str, Any]:
    """The criteria table version as it is archived beside the endorsement (badges.archive): every
    field a reviewer judged against, in both languages."""
    return {
        "code": table.code, "version": table.version, "title_en": table.title_en, "title_ja": table.title_ja,
        "rule": table.rule, "published_at": table.published_at.isoformat() if table.published_at else None,
        "criteria": [
            {"code": c.code, "position": c.position, "required": c.required, "title_en": c.title_en,
             "title_ja": c.title_ja, "guidance_en": c.guidance_en, "guidance_ja": c.guidance_ja}
            for c in table.criteria.order_by("position", "id")
        ],
    }


def judged_on(endorsement: Endorsement) -> list[dict[str, Any]]:
    """Archive what the endorsement was judged on (the programme's frozen snapshot, the criteria
    table version) and answer the `relatedResource` entries naming them with their digests."""
    from badges.archive import Kind, document_archive, related_resource

    copies = [document_archive(endorsement=endorsement, kind=Kind.SNAPSHOT,
                               document=endorsement.application.snapshot or {},
                               original_url=endorsed_achievement_id(endorsement))]
    table = endorsement.application.criteria_table
    if table is not None:
        copies.append(document_archive(endorsement=endorsement, kind=Kind.CRITERIA,
                                       document=criteria_table_document(table)))
    return [related_resource(copy) for copy in copies]


def endorsed_achievement_id(endorsement: Endorsement) -> str:
    """The id of the Achievement the endorsement is about: the programme's or the pathway's."""
    if endorsement.pathway_id:
        return pathway_achievement_id(endorsement.pathway, endorsement.version)
    return achievement_id(endorsement.programme, endorsement.version)


def _comment(endorsement: Endorsement) -> str:
    table = endorsement.application.criteria_table
    base = (
        f"Reviewed against the criteria table “{table.title_en}” version {table.version}; "
        "every required criterion was judged met by every reviewer."
    )
    return f"{base} {endorsement.comment}".strip()


@transaction.atomic
def endorsement_sign(endorsement_id: int) -> Endorsement:
    """Sign the EndorsementCredential of an endorsement: issuer the body, subject the programme's
    Achievement, valid for the endorsement's period, with a suspension status entry. Safe to repeat:
    a signed endorsement is returned unchanged (the row lock keeps two workers from signing twice)."""
    # of=("self",): lock only the endorsement. PostgreSQL refuses FOR UPDATE on the nullable side
    # of the outer join to the criteria table, and nothing else needs locking here.
    endorsement = (
        Endorsement.objects.select_for_update(of=("self",))
        .select_related("programme__organisation", "pathway__organisation", "application__criteria_table")
        .get(pk=endorsement_id)
    )
    if endorsement.credential:
        return endorsement
    body = Organisation.objects.get(is_certification_body=True)
    if endorsement.status is None:
        endorsement.status = status_allocate(body, StatusPurpose.SUSPENSION)
    name = endorsement.application.snapshot.get("name_en") or endorsement.subject.name
    unsigned = vc.build_endorsement_credential(
        id=endorsement_credential_url(endorsement),
        issuer=issuer_profile(body),
        endorsed_id=endorsed_achievement_id(endorsement),
        name=f"Endorsement of {name}",
        valid_from=endorsement.valid_from,
        valid_until=endorsement.valid_until,
        endorsement_comment=_comment(endorsement),
        credential_status=status_entry(endorsement.status),
        awarded_date=endorsement.valid_from,
    )
    # What exactly was endorsed, checkable years later: the archived snapshot and criteria table
    # with their digests (docs/evidence.md).
    unsigned["relatedResource"] = judged_on(endorsement)
    private_key, method = signing_material(body)
    endorsement.credential = vc.sign(unsigned, private_key, method, timezone.now())
    endorsement.signed_at = timezone.now()
    endorsement.save(update_fields=["credential", "signed_at", "status"])
    audit_record(actor=None, action=AuditAction.ENDORSEMENT_SIGNED, subject=endorsement,
                 from_state=endorsement.state, to_state=endorsement.state,
                 data={"credential": endorsement.credential["id"], "verificationMethod": method})
    publish_status_of(endorsement)
    return endorsement


def publish_status_of(endorsement: Endorsement) -> None:
    """After commit, re-publish the status list holding this endorsement's entry."""
    if endorsement.status_id:
        enqueue_on_commit("badges.tasks.publish_status_list", endorsement.status.status_list_id)


def in_force_q(now: Any) -> Q:
    """Endorsements in force at `now`: signed, published, within their period, and active — or a
    published renewal whose start has come although the beat task has not started it yet (so that
    there is no gap at the instant the renewed one ends), unless its predecessor is suspended."""
    due_renewal = Q(state=EndorsementState.SCHEDULED, valid_from__lte=now) & ~Q(
        predecessor__state=EndorsementState.SUSPENDED)
    return (Q(state=EndorsementState.ACTIVE) | due_renewal) & Q(
        credential__isnull=False, application__state=ApplicationState.PUBLISHED, valid_from__lte=now,
        valid_until__gt=now)


def endorsement_in_force(programme_id: int) -> Endorsement | None:
    """The programme's endorsement in force, if any: badges are issued under it."""
    return (
        Endorsement.objects.filter(in_force_q(timezone.now()), programme_id=programme_id)
        .order_by("-valid_from")
        .first()
    )


def programme_achievement(programme_id: int, version: int = 1, language: str | None = None) -> dict[str, Any] | None:
    """One version's Achievement as published: from the endorsed snapshot of that version, with
    its newest signed endorsement embedded; None while that version has none. `language`: its
    edition in the programme's other language, None when the programme has no such edition."""
    endorsement = (
        Endorsement.objects.filter(programme_id=programme_id, version=version, credential__isnull=False)
        .select_related("programme__organisation", "application")
        .order_by("-valid_from")
        .first()
    )
    if endorsement is None:
        return None
    content = endorsement.application.snapshot or {}
    if language is not None and language != other_edition(content):
        return None
    return achievement_document(
        endorsement.programme, content, endorsements=[endorsement.credential], version=version, language=language,
    )


def suspended_endorsement_indices(status_list: StatusList) -> Iterable[int]:
    """Suspension lists: the entries of endorsements that are suspended or revoked (a revoked
    endorsement is never reinstated, so its bit stays set)."""
    return Endorsement.objects.filter(
        status__status_list=status_list, state__in=[EndorsementState.SUSPENDED, EndorsementState.REVOKED]
    ).values_list("status__index", flat=True)
