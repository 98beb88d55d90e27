"""The audit chain's hash as a pure function of one event (no database: the events are built in
memory): a known answer, and every field of the event, the previous hash included, in it.

These are the tests the fast mutation subset (tests/test_mutation_fast.py) runs against `event_hash`
and `_event_payload`; the chain in the database is tests/endorsement/test_audit.py."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from endorsement.audit import GENESIS, event_hash
from endorsement.models import AuditEvent


def independent_hash(event: AuditEvent) -> str:
    """The chain's hash as docs/operations.md defines it, written here rather than taken from
    endorsement.audit (so that the tests can disagree with it)."""
    payload = {
        "seq": event.seq, "at": event.at.isoformat(), "actor_id": event.actor_id, "actor": event.actor_repr,
        "action": event.action, "subject": f"{event.subject_type}:{event.subject_id}", "from": event.from_state,
        "to": event.to_state, "comment": event.comment, "data": event.data, "prev": event.prev_hash,
    }
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()


def known_event(prev: str) -> AuditEvent:
    return AuditEvent(
        seq=1, at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC), actor=None, actor_repr="system",
        action="application.created", subject_type="application", subject_id="7", from_state="",
        to_state="draft", comment="審査済み", data={"k": "v"}, prev_hash=prev,
    )


def test_the_event_hash_is_the_known_answer_and_covers_the_previous_hash():
    # SHA-256 of the UTF-8 bytes of
    # {"action":"application.created","actor":"system","actor_id":null,"at":"2026-03-02T09:00:00+00:00",
    #  "comment":"審査済み","data":{"k":"v"},"from":"","prev":"<prev>","seq":1,"subject":"application:7",
    #  "to":"draft"}   (one line, no spaces), computed once with sha256sum.
    assert event_hash(known_event(GENESIS)) == "df00e75773758f172940b85aab7ead9bf613fcf29b17eb3d450e9363e48aeecd"
    assert event_hash(known_event("ab" * 32)) == "0fb3c49d864b4d1cbb7a74920e741cbc518b30f5057ce375b6535bac45a02265"


def test_changing_any_field_changes_the_hash():
    base = known_event(GENESIS)
    seen = {event_hash(base)}
    for field, value in [("seq", 2), ("at", datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)), ("actor_repr", "x"),
                         ("action", "application.submitted"), ("subject_type", "programme"), ("subject_id", "8"),
                         ("from_state", "draft"), ("to_state", "submitted"), ("comment", "審査"),
                         ("data", {"k": "w"}), ("prev_hash", "1" * 64), ("actor_id", 5)]:
        event = known_event(GENESIS)
        setattr(event, field, value)
        assert independent_hash(event) == event_hash(event), field
        seen.add(event_hash(event))
    assert len(seen) == 13



def test_the_hash_is_over_the_utf8_of_unescaped_json():
    # "審査済み" as its UTF-8 bytes in the hashed text, not as \u escapes; no spaces after , and :.
    event = known_event(GENESIS)
    text = ('{"action":"application.created","actor":"system","actor_id":null,"at":"2026-03-02T09:00:00+00:00",'
            '"comment":"審査済み","data":{"k":"v"},"from":"","prev":"' + GENESIS + '","seq":1,'
            '"subject":"application:7","to":"draft"}')
    assert event_hash(event) == hashlib.sha256(text.encode("utf-8")).hexdigest()
