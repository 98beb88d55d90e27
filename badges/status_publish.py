"""When status lists are published after badges are issued or revoked (badges.status signs them).

A single award, a revocation and a batch that is done publish their lists at once, after commit. A
batch's chunks do not: a new entry is unset (valid), so issuing does not change a list's bits, and
the lists are published debounced while the batch runs (docs/operations.md). A services module, not
part of the lower layer badges.status: it sends tasks (config.tasking) and uses the cache.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from badges.models import StatusList
from config.tasking import enqueue_on_commit, task_named

PUBLISH_TASK = "badges.tasks.publish_status_list"


def status_lists_publish(status_list_ids: Iterable[int]) -> None:
    """Publish these lists after commit, each at once (a revocation, a single award, a batch done)."""
    for status_list_id in sorted(set(status_list_ids)):
        enqueue_on_commit(PUBLISH_TASK, status_list_id)


def _slot_key(status_list_id: int) -> str:
    return f"status-list-publish-pending:{status_list_id}"


def status_lists_issued_in_batch(status_list_ids: Iterable[int]) -> None:
    """A batch chunk issued entries on these lists (in this transaction). A new entry is unset, which
    reads as valid, so a list's published bits do not change when a badge is issued: only a list
    never signed (opened by this batch) must be served at once. The others are re-published at most
    once per STATUS_PUBLISH_DELAY_SECONDS while the batch runs (the first chunk in a window schedules
    one publish that many seconds later, which every chunk committed meanwhile is covered by; a
    never-signed list's publish is sent at once instead), and once more when the batch is done
    (`status_lists_publish`). Revocations never wait for this. The slot is in the cache: with the
    default per-process cache, each worker process debounces its own chunks."""
    ids = sorted(set(status_list_ids))
    if not ids:
        return
    unsigned = set(StatusList.objects.filter(pk__in=ids, signed_at__isnull=True).values_list("pk", flat=True))
    transaction.on_commit(lambda: _publish_debounced(ids, unsigned))


def status_publish_plan(ids: Iterable[int], unsigned: set[int], *, eager: bool) -> list[tuple[int, int]]:
    """(list id, countdown seconds) of the publishes to send for entries just issued on `ids`: none
    for a list whose slot is taken (a publish is already due within STATUS_PUBLISH_DELAY_SECONDS,
    and it reads this commit), 0 for a list never signed (`unsigned`) or with no broker (`eager`:
    nothing can run later), else the delay. Takes the slots it plans for."""
    delay = max(1, int(settings.STATUS_PUBLISH_DELAY_SECONDS))
    plan = []
    for status_list_id in ids:
        # The slot expires a second before the publish runs, so a chunk that found it taken
        # committed before that publish reads the list (as endorsement.registry debounces).
        if cache.add(_slot_key(status_list_id), "1", timeout=max(1, delay - 1)):
            plan.append((status_list_id, 0 if status_list_id in unsigned or eager else delay))
    return plan


def _publish_debounced(ids: list[int], unsigned: set[int]) -> None:
    """After commit (never raises with a broker, config.tasking): send what `status_publish_plan` says."""
    task = task_named(PUBLISH_TASK)
    eager = task.app.conf.task_always_eager
    try:
        plan = status_publish_plan(ids, unsigned, eager=eager)
    except Exception:
        if eager:
            raise
        plan = [(status_list_id, 0) for status_list_id in ids]  # no cache: publish each now
    for status_list_id, countdown in plan:
        try:
            if countdown:
                task.apply_async((status_list_id,), countdown=countdown)
            else:
                task.delay(status_list_id)
        except Exception:
            if eager:
                raise
            # The recovery sweep publishes a list never signed; the batch's end publishes the rest.
            with contextlib.suppress(Exception):
                cache.delete(_slot_key(status_list_id))
            logging.getLogger(__name__).exception("could not send publishing status list %s", status_list_id)
