"""Bitstring Status Lists: allocating entries, and publishing each list as a signed credential.

Entries are drawn uniformly at random from the unused indices of the issuer's current list (so an
index reveals nothing of issuance order) and are never reused (a unique constraint). A list is
retired from allocation when half full, which keeps random draws cheap; a new list is opened.
A list's bits are recomputed from the owners' states every time it is published, never patched.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from badges import credentials as vc
from badges.models import StatusAllocation, StatusList
from institutions.keys import issuer_key_active, issuer_profile, organisation_did, signing_material
from institutions.models import Organisation

FILL_LIMIT = 0.5


def status_list_url(status_list: StatusList) -> str:
    return settings.SITE_URL + reverse(
        "status-list", args=[status_list.organisation.slug, status_list.purpose, status_list.number]
    )


@transaction.atomic
def status_allocate(organisation: Organisation, purpose: str) -> StatusAllocation:
    """Hand out one unused random index on the organisation's current list for `purpose`."""
    # The organisation row is the allocators' mutex. FOR NO KEY UPDATE, not FOR UPDATE: it neither waits
    # for nor blocks the FOR KEY SHARE that inserting a row referencing the organisation takes (an award),
    # so two workers that each inserted awards and then allocate cannot deadlock on it.
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
    current = StatusList.objects.filter(organisation=organisation, purpose=purpose).order_by("-number").first()
    if current is None or current.allocations.count() >= current.size * FILL_LIMIT:
        number = current.number + 1 if current else 1
        current = StatusList.objects.create(organisation=organisation, purpose=purpose, number=number)
    taken = StatusAllocation.objects.filter(status_list=current)
    while True:
        index = secrets.randbelow(current.size)
        if not taken.filter(index=index).exists():
            return StatusAllocation.objects.create(status_list=current, index=index)


@transaction.atomic
def status_allocate_many(organisation: Organisation, purpose: str, count: int) -> list[StatusAllocation]:
    """`count` allocations as `status_allocate` would hand them out one by one (random unused
    indices, a new list when the current one is half full), with one lock and one read of the used
    indices per list instead of one per entry: the batch path. Indices left unused (a chunk that
    fails after allocating) are simply never set; they are never reused either."""
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
    current = StatusList.objects.filter(organisation=organisation, purpose=purpose).order_by("-number").first()
    if current is not None:
        current.organisation = organisation  # read above: each entry's list URL names it (status_entry)
    allocations: list[StatusAllocation] = []
    while len(allocations) < count:
        taken = set(StatusAllocation.objects.filter(status_list=current).values_list("index", flat=True)) \
            if current else set()
        if current is None or len(taken) >= current.size * FILL_LIMIT:
            number = current.number + 1 if current else 1
            current = StatusList.objects.create(organisation=organisation, purpose=purpose, number=number)
            taken = set()
        room = math.ceil(current.size * FILL_LIMIT) - len(taken)
        drawn: list[int] = []  # in drawing order: a set would hand them out sorted, revealing issue order
        while len(drawn) < min(room, count - len(allocations)):
            index = secrets.randbelow(current.size)
            if index not in taken:
                taken.add(index)
                drawn.append(index)
        allocations += StatusAllocation.objects.bulk_create(
            [StatusAllocation(status_list=current, index=index) for index in drawn]
        )
    return allocations


def status_entry(allocation: StatusAllocation) -> dict:
    """The `BitstringStatusListEntry` a credential carries for this allocation."""
    return vc.build_status_entry(
        status_list_credential=status_list_url(allocation.status_list),
        index=allocation.index,
        purpose=allocation.status_list.purpose,
    )


# Who owns the entries of each purpose of list, and which of them are set. The owning apps register
# a query in their AppConfig.ready() (badges: revoked awards; endorsement: suspended or revoked
# endorsements), so this lower layer never imports the apps above it.
SetBits = Callable[[StatusList], Iterable[int]]
_SET_BITS: dict[str, list[SetBits]] = {}


def register_set_bits(purpose: str, query: SetBits) -> None:
    """Register `query(status_list)`: the indices of the list's entries whose bit must be set."""
    if query not in _SET_BITS.setdefault(purpose, []):
        _SET_BITS[purpose].append(query)


def _set_indices(status_list: StatusList) -> list[int]:
    """Indices whose bit is set, from every owner registered for the list's purpose. A purpose with
    no owner registered is refused: publishing it would clear every bit."""
    queries = _SET_BITS.get(status_list.purpose)
    if not queries:
        raise ImproperlyConfigured(f"no owner of {status_list.purpose} status entries is registered")
    return [index for query in queries for index in query(status_list)]


def _signed_by_active_key(status_list: StatusList) -> bool:
    """False when the list was signed with a key since retired or found compromised (badges.rekey)."""
    proofs = status_list.credential.get("proof") or []
    key = issuer_key_active(status_list.organisation)
    expected = f"{organisation_did(status_list.organisation)}#{key.fragment}"
    return any(isinstance(p, dict) and p.get("verificationMethod") == expected for p in proofs)


@transaction.atomic
def status_list_publish(status_list_id: int) -> StatusList:
    """Recompute the list's bits from the database and, if they changed (or it was never signed, or
    signed with a key that is no longer the active one), sign a new BitstringStatusListCredential.
    Safe to repeat: unchanged bits under the same key sign nothing."""
    status_list = StatusList.objects.select_for_update().select_related("organisation").get(pk=status_list_id)
    bits = vc.StatusList(status_list.size)
    for index in _set_indices(status_list):
        bits.set(index)
    encoded = bits.encode()
    organisation = status_list.organisation
    if status_list.credential and encoded == status_list.encoded_list and _signed_by_active_key(status_list):
        return status_list
    now = timezone.now()
    unsigned = vc.build_status_list_credential(
        id=status_list_url(status_list),
        issuer=organisation_did(organisation),
        purpose=status_list.purpose,
        encoded_list=encoded,
        valid_from=now,
        name=f"{issuer_profile(organisation)['name']}: {status_list.purpose} list {status_list.number}",
    )
    private_key, method = signing_material(organisation)
    status_list.credential = vc.sign(unsigned, private_key, method, now)
    status_list.encoded_list = encoded
    status_list.etag = hashlib.sha256(
        json.dumps(status_list.credential, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    status_list.signed_at = now
    status_list.save(update_fields=["credential", "encoded_list", "etag", "signed_at"])
    return status_list
