"""Signed checkpoints of the audit chain (issue 8, item 15): the two attacks the chain alone cannot
see — events deleted from the end with the head lowered, and an event rewritten with every later
hash recomputed — are made on the database, pass `verify_audit` on its own, and are found by
`verify_audit --against` a checkpoint published before them.

The attacker's re-hashing is a second implementation of the chain's hash written here (not the
production `event_hash`), and the signature is checked with `cryptography` over the bytes the
documentation gives, so neither can merely agree with the code under test.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse

from badges import credentials as vc
from endorsement.checkpoints import CheckpointError, checkpoint_from_row, checkpoint_make
from endorsement.models import ApplicationState, AuditCheckpoint, AuditEvent, AuditHead
from institutions.models import IssuerKey
from tests.factories import application_in, body

pytestmark = pytest.mark.django_db
S = ApplicationState
GENESIS = "0" * 64


# --- an attacker with write access to the database -------------------------------------------------


def attacker_hash(row: dict) -> str:
    """The chain's hash as docs/operations.md describes it: SHA-256 of the sorted, compact JSON of
    the event's fields and the previous hash (written here independently of endorsement.audit)."""
    payload = {
        "seq": row["seq"], "at": row["at"].isoformat(), "actor_id": row["actor_id"], "actor": row["actor_repr"],
        "action": row["action"], "subject": f"{row['subject_type']}:{row['subject_id']}",
        "from": row["from_state"], "to": row["to_state"], "comment": row["comment"], "data": row["data"],
        "prev": row["prev_hash"],
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def truncate(keep: int) -> None:
    """Delete every event after #keep and lower the head row to #keep, as raw SQL would."""
    last = AuditEvent.objects.get(seq=keep)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM endorsement_auditevent WHERE seq > %s", [keep])
        cursor.execute("UPDATE endorsement_audithead SET seq = %s, hash = %s WHERE id = 1", [keep, last.hash])


def rewrite(seq: int, comment: str) -> None:
    """Change event #seq's comment and recompute its hash and every later link and hash, then the head."""
    rows = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq").values())
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS
    with connection.cursor() as cursor:
        for row in rows:
            row["prev_hash"] = prev
            if row["seq"] == seq:
                row["comment"] = comment
            new = attacker_hash(row)
            # Two steps, so that the unique constraint on hash never sees a transient duplicate.
            cursor.execute("UPDATE endorsement_auditevent SET hash = %s WHERE seq = %s", ["x" + new[1:], row["seq"]])
            cursor.execute(
                "UPDATE endorsement_auditevent SET comment = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                [row["comment"], prev, new, row["seq"]],
            )
            prev = new
        cursor.execute("UPDATE endorsement_audithead SET hash = %s WHERE id = 1", [prev])


def verify_audit(*args: str) -> tuple[int, str, str]:
    """`manage.py verify_audit ARGS`: (exit status, stdout, stderr)."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as error:
        return 1, out.getvalue(), str(error)
    return 0, out.getvalue(), err.getvalue()


def publish(tmp_path: Path, name: str = "checkpoint.json") -> Path:
    """`manage.py audit_checkpoint --output FILE`: what a watcher downloads and keeps."""
    path = tmp_path / name
    call_command("audit_checkpoint", "--output", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    return path


# --- the attacks ------------------------------------------------------------------------------------


def test_the_attacker_helpers_rebuild_an_intact_chain_so_the_attacks_below_are_real():
    application_in(S.REJECTED)
    for row in AuditEvent.objects.order_by("seq").values():
        assert attacker_hash(row) == row["hash"]


def test_truncation_passes_the_chain_alone_but_not_a_checkpoint_published_before_it(tmp_path):
    application_in(S.REJECTED)
    count = AuditEvent.objects.count()
    kept = publish(tmp_path)

    truncate(count - 3)

    assert verify_audit()[0] == 0  # the chain on its own cannot see it
    code, out, err = verify_audit("--against", str(kept))
    assert code == 1 and out == ""
    assert f"the chain has {count - 3} events, but the checkpoint" in err
    assert f"signed {count}: events were removed (truncated)" in err


def test_rewriting_an_event_and_every_later_hash_passes_the_chain_alone_but_not_a_checkpoint(tmp_path):
    application_in(S.REJECTED)
    kept = publish(tmp_path)
    count = AuditEvent.objects.count()
    target = AuditEvent.objects.get(action="application.rejected")

    rewrite(target.seq, "In scope after all.")

    assert AuditEvent.objects.get(seq=target.seq).comment == "In scope after all."
    assert verify_audit()[0] == 0
    code, _out, err = verify_audit("--against", str(kept))
    assert code == 1
    assert f"event #{count} does not have the hash the checkpoint of" in err
    assert f"the chain was rewritten at or before #{count}" in err


def test_an_old_checkpoint_still_finds_a_rewrite_of_the_events_it_covers(tmp_path):
    application, cast = application_in(S.CHANGES_REQUESTED)
    first = publish(tmp_path, "first.json")
    first_seq = json.loads(first.read_text())["seq"]
    from endorsement import services

    services.application_resubmit(actor=cast.editor, application=application, comment="Weights added.")
    second = publish(tmp_path, "second.json")
    assert json.loads(second.read_text())["seq"] > first_seq

    rewrite(2, "forged")  # an event both checkpoints cover

    assert verify_audit("--against", str(first))[0] == 1
    assert verify_audit("--against", str(second))[0] == 1


def test_a_truncated_chain_grown_back_to_its_old_length_is_found_as_a_rewrite(tmp_path):
    application, cast = application_in(S.CHANGES_REQUESTED)
    kept = publish(tmp_path)
    count = AuditEvent.objects.count()
    truncate(count - 1)
    # New, genuine events take the old numbers: the length matches, the hashes cannot.
    from endorsement import services

    services.application_resubmit(actor=cast.editor, application=application, comment="Weights added.")
    assert AuditEvent.objects.count() >= count
    assert verify_audit()[0] == 0
    code, _out, err = verify_audit("--against", str(kept))
    assert code == 1 and f"the chain was rewritten at or before #{count}" in err


def test_an_untouched_chain_agrees_with_every_checkpoint_and_says_so(tmp_path):
    application, cast = application_in(S.CHANGES_REQUESTED)
    first = publish(tmp_path, "first.json")
    from endorsement import services

    services.application_resubmit(actor=cast.editor, application=application, comment="Weights added.")
    second = publish(tmp_path, "second.json")
    code, out, _err = verify_audit("--against", str(first), "--against", str(second))
    assert code == 0
    assert out.strip() == (
        f"audit chain intact: {AuditEvent.objects.count()} events, consistent with 2 signed checkpoint(s)"
    )


# --- what is signed, and refusing what is not the body's -----------------------------------------


def test_the_signature_covers_the_documented_bytes_with_the_bodys_published_key(tmp_path):
    application_in(S.REJECTED)
    document = json.loads(publish(tmp_path).read_text())
    head = AuditHead.objects.get()
    did = "did:web:" + settings.SITE_URL.split("://", 1)[1].replace(":", "%3A")
    assert document["type"] == "AuditCheckpoint"
    assert (document["origin"], document["seq"], document["head"]) == (did, head.seq, head.hash)
    assert document["verificationMethod"].startswith(did + "#key-")

    # The key as anyone reads it: the body's DID document at /.well-known/did.json.
    did_doc = json.loads(body_did_document())
    (method,) = [m for m in did_doc["verificationMethod"] if m["id"] == document["verificationMethod"]]
    multikey = method["publicKeyMultibase"]
    raw = base58_decode(multikey[1:])
    assert raw[:2] == b"\xed\x01"  # the Multikey header of an Ed25519 public key
    text = (
        "microcred-endorse audit checkpoint v1\n"
        f"{document['origin']}\n{document['seq']}\n{document['head']}\n{document['time']}\n"
    )
    signature = base58_decode(document["signature"][1:])
    Ed25519PublicKey.from_public_bytes(raw[2:]).verify(signature, text.encode())  # raises if wrong


def body_did_document() -> str:
    from django.test import Client

    response = Client().get("/.well-known/did.json")
    assert response.status_code == 200
    return response.content.decode()


def base58_decode(text: str) -> bytes:
    """Bitcoin base58 (the multibase `z`), written here rather than taken from the library."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = 0
    for char in text:
        number = number * 58 + alphabet.index(char)
    body_bytes = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body_bytes


@pytest.mark.parametrize(("field", "value"), [
    ("seq", "shift"), ("head", "0" * 64), ("time", "2020-01-01T00:00:00Z"), ("signature", "flip"),
])
def test_an_altered_checkpoint_is_refused_not_trusted(tmp_path, field, value):
    application_in(S.REJECTED)
    path = publish(tmp_path)
    document = json.loads(path.read_text())
    if value == "shift":
        document["seq"] -= 1  # e.g. to excuse a truncation
    elif value == "flip":
        sig = document["signature"]
        document["signature"] = sig[:-2] + ("2" if sig[-2] != "2" else "3") + sig[-1]
    else:
        document[field] = value
    path.write_text(json.dumps(document))

    code, out, err = verify_audit("--against", str(path))
    assert code == 1 and out == ""
    assert "checkpoint refused" in err and "signature does not verify" in err


def test_a_checkpoint_signed_by_another_key_is_refused(tmp_path):
    application_in(S.REJECTED)
    path = publish(tmp_path)
    document = json.loads(path.read_text())
    stranger = vc.generate_private_key()
    text = (
        f"microcred-endorse audit checkpoint v1\n{document['origin']}\n{document['seq']}\n"
        f"{document['head']}\n{document['time']}\n"
    )
    document["signature"] = vc.multibase_encode(stranger.sign(text.encode()))
    path.write_text(json.dumps(document))
    code, _out, err = verify_audit("--against", str(path))
    assert code == 1 and "signature does not verify" in err


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "not JSON"),
    ('{"type": "Something"}', "not an audit checkpoint"),
    ('{"type": "AuditCheckpoint", "format": "microcred-endorse audit checkpoint v1", "seq": -1}', "seq must be"),
    ("x" * 70000, "larger than"),
])
def test_a_file_that_is_not_a_checkpoint_is_refused_with_its_reason(tmp_path, content, message):
    application_in(S.DRAFT)
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, _out, err = verify_audit("--against", str(path))
    assert code == 1 and message in err
    code, _out, err = verify_audit("--against", str(tmp_path / "missing.json"))
    assert code == 1 and "cannot be read" in err


def test_a_checkpoint_is_read_from_a_url():
    application_in(S.REJECTED)
    payload = json.dumps(checkpoint_from_row(checkpoint_make()).document()).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/audit/checkpoints/latest.json"
        assert verify_audit("--against", url)[0] == 0
        truncate(AuditEvent.objects.count() - 1)
        code, _out, err = verify_audit("--against", url)
        assert code == 1 and "truncated" in err
    finally:
        server.shutdown()
        server.server_close()


# --- making checkpoints -----------------------------------------------------------------------------


def test_making_a_checkpoint_twice_without_new_events_stores_one():
    application_in(S.REJECTED)
    first = checkpoint_make()
    again = checkpoint_make()
    assert again.pk == first.pk and AuditCheckpoint.objects.count() == 1


def test_an_empty_chain_gets_a_checkpoint_of_the_genesis_head(tmp_path):
    AuditEvent.objects.all()  # nothing recorded yet in a fresh test database
    assert AuditEvent.objects.count() == 0
    document = json.loads(publish(tmp_path).read_text())
    assert (document["seq"], document["head"]) == (0, GENESIS)
    assert verify_audit("--against", str(tmp_path / "checkpoint.json"))[0] == 0


def test_a_broken_chain_is_never_signed():
    application_in(S.REJECTED)
    target = AuditEvent.objects.get(action="application.rejected")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE endorsement_auditevent SET comment = %s WHERE seq = %s", ["changed", target.seq])
    with pytest.raises(CheckpointError, match=f"broken at seq {target.seq}"):
        checkpoint_make()
    assert AuditCheckpoint.objects.count() == 0
    with pytest.raises(CommandError, match="no checkpoint is signed"):
        call_command("audit_checkpoint", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert AuditCheckpoint.objects.count() == 0


def test_a_chain_that_no_longer_holds_the_last_checkpoint_is_never_signed_again():
    application_in(S.REJECTED)
    checkpoint_make()
    truncate(AuditEvent.objects.count() - 2)
    with pytest.raises(CheckpointError, match="truncated"):
        checkpoint_make()
    assert AuditCheckpoint.objects.count() == 1


def test_the_beat_task_signs_and_the_schedule_runs_it_hourly():
    from endorsement.tasks import make_audit_checkpoint

    application_in(S.REJECTED)
    assert make_audit_checkpoint() == AuditEvent.objects.count()
    entry = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == "endorsement.tasks.make_audit_checkpoint"
    assert entry["schedule"].minute == {50} and len(entry["schedule"].hour) == 24


def test_a_stored_checkpoint_cannot_be_changed_or_deleted():
    from django.core.exceptions import ValidationError

    application_in(S.DRAFT)
    row = checkpoint_make()
    row.seq = 99
    with pytest.raises(ValidationError):
        row.save()
    with pytest.raises(ValidationError):
        row.delete()
    assert AuditCheckpoint.objects.get().seq == AuditEvent.objects.count()


# --- the public URLs --------------------------------------------------------------------------------


def test_the_public_urls_serve_the_stored_checkpoints(client):
    assert client.get(reverse("audit-checkpoint-latest")).status_code == 404
    application, cast = application_in(S.CHANGES_REQUESTED)
    first = checkpoint_make()
    from endorsement import services

    services.application_resubmit(actor=cast.editor, application=application, comment="Weights added.")
    second = checkpoint_make()

    latest = client.get("/audit/checkpoints/latest.json")
    assert latest.status_code == 200 and latest["Content-Type"].startswith("application/json")
    assert latest["Access-Control-Allow-Origin"] == "*"
    assert latest.json() == checkpoint_from_row(second).document()
    assert client.get(f"/audit/checkpoints/{first.seq}.json").json()["head"] == first.head_hash
    assert client.get("/audit/checkpoints/999999.json").status_code == 404
    listing = client.get("/audit/checkpoints.json").json()
    assert [c["seq"] for c in listing["checkpoints"]] == [second.seq, first.seq] and listing["next"] is None
    older = client.get(f"/audit/checkpoints.json?before={second.seq}").json()
    assert [c["seq"] for c in older["checkpoints"]] == [first.seq]
    bad = client.get("/audit/checkpoints.json?before=x")
    assert bad.status_code == 400 and "before" in bad.json()["detail"]
    in_japanese = client.get("/audit/checkpoints.json?before=x", HTTP_ACCEPT_LANGUAGE="ja")
    assert in_japanese.status_code == 400 and "整数" in in_japanese.json()["detail"]
    assert client.post("/audit/checkpoints/latest.json").status_code == 405


def test_a_checkpoint_survives_a_key_rotation(tmp_path):
    from institutions.keys import issuer_key_rotate

    application_in(S.REJECTED)
    kept = publish(tmp_path)
    issuer_key_rotate(body())
    assert IssuerKey.objects.filter(organisation=body()).count() == 2
    assert verify_audit("--against", str(kept))[0] == 0


# --- every field of a checkpoint document is checked -------------------------------------------------

GOOD = {
    "type": "AuditCheckpoint", "format": "microcred-endorse audit checkpoint v1", "origin": "did:web:example.org",
    "seq": 3, "head": "ab" * 32, "time": "2026-03-02T09:00:00Z", "verificationMethod": "did:web:example.org#key-1",
    "signature": "z3abc",
}


@pytest.mark.parametrize(("change", "message"), [
    ({"type": "Checkpoint"}, "not an audit checkpoint: type must be 'AuditCheckpoint' and format "
                             "'microcred-endorse audit checkpoint v1'"),
    ({"format": "v2"}, "not an audit checkpoint"),
    ({"seq": -1}, "seq must be a whole number, 0 or more"),
    ({"seq": "3"}, "seq must be a whole number, 0 or more"),
    ({"seq": True}, "seq must be a whole number, 0 or more"),
    ({"seq": 3.0}, "seq must be a whole number, 0 or more"),
    ({"head": "AB" * 32}, "head must be 64 lowercase hexadecimal digits"),
    ({"head": "ab" * 31}, "head must be 64 lowercase hexadecimal digits"),
    ({"head": "ab" * 32 + "\n"}, "head must be 64 lowercase hexadecimal digits"),
    ({"head": None}, "head must be 64 lowercase hexadecimal digits"),
    ({"seq": 0}, "a checkpoint of an empty chain has the genesis head (64 zeros)"),
    ({"time": "2026-03-02T09:00:00+00:00"}, "time must be an RFC 3339 UTC time such as 2026-03-02T09:00:00Z"),
    ({"time": "2026-03-02T09:00:00Z\n"}, "time must be an RFC 3339 UTC time"),
    ({"time": 1}, "time must be an RFC 3339 UTC time"),
    ({"origin": ""}, "origin must be a non-empty string on one line"),
    ({"origin": "did:web:a\nb"}, "origin must be a non-empty string on one line"),
    ({"origin": "d" * 401}, "origin must be a non-empty string on one line"),
    ({"verificationMethod": 7}, "verificationMethod must be a non-empty string on one line"),
    ({"signature": None}, "signature must be a non-empty string on one line"),
])
def test_a_checkpoint_document_with_a_bad_field_is_refused_naming_it(change, message):
    from endorsement.checkpoints import checkpoint_parse

    with pytest.raises(CheckpointError) as refused:
        checkpoint_parse({**GOOD, **change})
    assert str(refused.value).startswith(message)


def test_a_good_checkpoint_document_parses_to_its_fields_and_signed_bytes():
    from endorsement.checkpoints import checkpoint_parse

    parsed = checkpoint_parse(dict(GOOD))
    assert parsed.document() == GOOD
    assert parsed.signed_bytes() == (
        b"microcred-endorse audit checkpoint v1\ndid:web:example.org\n3\n" + b"ab" * 32 + b"\n2026-03-02T09:00:00Z\n"
    )
    assert checkpoint_parse({**GOOD, "seq": 0, "head": GENESIS}).seq == 0
    assert checkpoint_parse({**GOOD, "origin": "d" * 400}).origin == "d" * 400
    with pytest.raises(CheckpointError, match="a checkpoint is a JSON object"):
        checkpoint_parse([GOOD])


def test_a_checkpoint_of_another_body_or_naming_an_unknown_key_is_refused(tmp_path):
    application_in(S.REJECTED)
    document = json.loads(publish(tmp_path).read_text())
    for change, message in [
        ({"origin": "did:web:elsewhere.example"}, "the checkpoint is of 'did:web:elsewhere.example', not of this body"),
        ({"verificationMethod": document["origin"] + "#key-9"}, "which is not one of the body's keys"),
        ({"verificationMethod": "did:web:elsewhere.example#key-1"}, "which is not one of the body's keys"),
        ({"signature": "not-multibase"}, "signature does not verify"),
    ]:
        path = tmp_path / "changed.json"
        path.write_text(json.dumps({**document, **change}))
        code, _out, err = verify_audit("--against", str(path))
        assert code == 1 and message in err, (change, err)
    # A URL scheme that is neither a file nor http(s):
    code, _out, err = verify_audit("--against", "ftp://example.org/checkpoint.json")
    assert code == 1 and "give a file or an http(s) URL" in err


# --- the comparison itself, report by report ----------------------------------------------------------


def test_the_reports_of_the_comparison_say_exactly_what_was_found(tmp_path):
    from endorsement.audit import ChainReport
    from endorsement.checkpoints import audit_verify_against, chain_against, checkpoint_load

    application_in(S.REJECTED)
    count = AuditEvent.objects.count()
    kept = checkpoint_load(str(publish(tmp_path)))
    assert chain_against(kept) == ChainReport(True, count)
    assert audit_verify_against([kept]) == ChainReport(True, count)

    empty = checkpoint_load(str(tmp_path / "checkpoint.json"))
    from dataclasses import replace

    assert chain_against(replace(empty, seq=0, head=GENESIS)) == ChainReport(True, count)

    truncate(count - 2)
    assert chain_against(kept) == ChainReport(
        False, count - 2, count - 1,
        f"the chain has {count - 2} events, but the checkpoint of {kept.time} signed {count}: "
        "events were removed (truncated)",
        against_checkpoint=True,
    )
    assert audit_verify_against([kept]) == chain_against(kept)


def test_a_rewrite_report_names_the_checkpoint_and_its_seq(tmp_path):
    from endorsement.audit import ChainReport
    from endorsement.checkpoints import audit_verify_against, chain_against, checkpoint_load

    application_in(S.REJECTED)
    count = AuditEvent.objects.count()
    kept = checkpoint_load(str(publish(tmp_path)))
    rewrite(2, "forged")
    expected = ChainReport(
        False, count, count,
        f"event #{count} does not have the hash the checkpoint of {kept.time} signed: "
        f"the chain was rewritten at or before #{count}",
        against_checkpoint=True,
    )
    assert chain_against(kept) == expected
    assert audit_verify_against([kept]) == expected


def test_the_oldest_disagreeing_checkpoint_is_reported_and_a_broken_chain_comes_first(tmp_path):
    from endorsement.checkpoints import audit_verify_against, checkpoint_load

    application, cast = application_in(S.CHANGES_REQUESTED)
    first = checkpoint_load(str(publish(tmp_path, "first.json")))
    from endorsement import services

    services.application_resubmit(actor=cast.editor, application=application, comment="Weights added.")
    second = checkpoint_load(str(publish(tmp_path, "second.json")))
    rewrite(2, "forged")
    report = audit_verify_against([second, first])
    assert (report.ok, report.broken_seq, report.against_checkpoint) == (False, first.seq, True)
    # Changed in place, without re-hashing: the chain's own check speaks first.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE endorsement_auditevent SET comment = %s WHERE seq = 3", ["again"])
    report = audit_verify_against([second, first])
    assert (report.ok, report.broken_seq, report.against_checkpoint) == (False, 3, False)
    assert report.reason == "its content does not match its hash"


def test_the_stored_checkpoint_holds_what_was_signed(tmp_path):
    application_in(S.REJECTED)
    row = checkpoint_make()
    head = AuditHead.objects.get()
    assert (row.seq, row.head_hash) == (head.seq, head.hash)
    assert row.made_at.microsecond == 0
    assert vc.format_datetime(row.made_at) == checkpoint_from_row(row).time
    assert row.verification_method == checkpoint_from_row(row).verification_method
    document = json.loads(publish(tmp_path).read_text())
    assert document == checkpoint_from_row(AuditCheckpoint.objects.get()).document()


def test_a_checkpoint_made_at_a_given_moment_signs_and_stores_that_moment_to_the_second():
    """The moment is taken once: the time signed and the time stored are the same second (a
    checkpoint whose signed time was read from the clock again would name another moment)."""
    application_in(S.REJECTED)
    row = checkpoint_make(at=datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC))
    assert row.made_at == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    (method,) = [m for m in json.loads(body_did_document())["verificationMethod"]
                 if m["id"] == row.verification_method]
    public = Ed25519PublicKey.from_public_bytes(base58_decode(method["publicKeyMultibase"][1:])[2:])
    text = (f"microcred-endorse audit checkpoint v1\n{row.origin}\n{row.seq}\n{row.head_hash}\n"
            "2026-03-04T05:06:07Z\n")
    public.verify(base58_decode(row.signature[1:]), text.encode())  # raises if another time was signed


def test_a_checkpoint_cannot_be_saved_again_or_deleted_and_a_new_one_keeps_its_arguments():
    application_in(ApplicationState.DRAFT)
    checkpoint = checkpoint_make()
    checkpoint.seq = 999
    with pytest.raises(ValidationError) as saved:
        checkpoint.save()
    with pytest.raises(ValidationError) as deleted:
        checkpoint.delete()
    assert saved.value.messages == deleted.value.messages == ["Audit checkpoints are append-only."]
    assert list(AuditCheckpoint.objects.values_list("seq", flat=True)) == [AuditEvent.objects.get().seq]
    copy = AuditCheckpoint(**{f.attname: getattr(checkpoint, f.attname) for f in AuditCheckpoint._meta.concrete_fields
                              if not f.primary_key})
    with pytest.raises(ValueError, match="Cannot force an update in save"), transaction.atomic():
        copy.save(force_update=True)
    assert AuditCheckpoint.objects.count() == 1


def test_a_checkpoint_signed_with_a_members_key_of_the_same_name_is_refused_with_its_words():
    """The body's key is looked up among the body's keys only: a member's "key-1" (listed first, its
    organisation's name sorting before the body's) must not verify a checkpoint claiming the body."""
    import dataclasses

    from endorsement.checkpoints import checkpoint_check_signature
    from institutions.keys import signing_material
    from tests.factories import OrganisationFactory

    application_in(ApplicationState.DRAFT)
    genuine = checkpoint_from_row(checkpoint_make())
    member = OrganisationFactory(name="AAA Academy")
    private_key, method = signing_material(member)
    assert method.rpartition("#")[2] == genuine.verification_method.rpartition("#")[2] == "key-1"
    assert IssuerKey.objects.filter(fragment="key-1").first().organisation == member
    forged = dataclasses.replace(genuine, signature=vc.multibase_encode(private_key.sign(genuine.signed_bytes())))
    with pytest.raises(CheckpointError) as refused:
        checkpoint_check_signature(forged)
    assert str(refused.value) == (f"the checkpoint's signature does not verify with {genuine.verification_method!r}: "
                                  "it was not signed by the body, or it was altered")
    checkpoint_check_signature(genuine)  # the genuine one still verifies


def test_a_checkpoint_that_is_not_an_object_is_refused_and_signing_is_logged(caplog):
    from endorsement.checkpoints import checkpoint_parse

    with pytest.raises(CheckpointError) as refused:
        checkpoint_parse(["not", "an", "object"])
    assert str(refused.value) == "a checkpoint is a JSON object"
    application_in(ApplicationState.DRAFT)
    with caplog.at_level("INFO", logger="endorsement.checkpoints"):
        row = checkpoint_make()
    assert f"audit checkpoint signed: seq {row.seq}, head {row.head_hash}" in [r.getMessage() for r in caplog.records]
