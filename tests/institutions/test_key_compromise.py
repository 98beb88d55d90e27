"""rotate_key --compromised: the key leaves the DID document at once (no key is in `authentication`
at all), everything this server signed with it is signed again with the next key and verifies, a
copy signed before (or forged with the stolen key) no longer verifies, and the whole is audited."""

from __future__ import annotations

import copy
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from badges import credentials as vc
from badges.awards import award_issue, award_revoke
from badges.models import Award, StatusList
from badges.status import status_list_publish
from endorsement.models import AuditEvent, Endorsement
from institutions.keys import organisation_did
from institutions.models import IssuerKey, Organisation
from tests.factories import awarding_setup, body

pytestmark = pytest.mark.django_db


def resolver() -> vc.KeyResolver:
    """The DID documents as they are served now."""
    client = Client()
    documents = [client.get("/.well-known/did.json").json()]
    documents += [client.get(f"/organisations/{o.slug}/did.json").json()
                  for o in Organisation.objects.filter(is_certification_body=False)]
    return vc.make_key_resolver(documents, allow_did_key=False)


def without_proof(credential: dict) -> dict:
    return {k: v for k, v in credential.items() if k != "proof"}


def method_of(credential: dict) -> str:
    (proof,) = credential["proof"]
    return proof["verificationMethod"]


def run(*args: str) -> str:
    out = StringIO()
    call_command("rotate_key", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def issued():
    programme, app, cast, issuer = awarding_setup()
    awards = [award_issue(actor=issuer, programme=programme, recipient_email=f"l{n}@example.org",
                          recipient_name=f"Learner {n}") for n in range(3)]
    award_revoke(actor=issuer, award=awards[2], reason="Plagiarism found.")
    for status_list in StatusList.objects.all():
        status_list_publish(status_list.pk)
    return programme, app, cast, issuer, awards


def test_a_compromised_member_key_leaves_the_did_document_and_every_badge_is_signed_again(issued):
    _programme, _app, cast, _issuer, awards = issued
    organisation = cast.organisation
    did = organisation_did(organisation)
    before = {a.pk: copy.deepcopy(a.credential) for a in Award.objects.all()}
    assert {method_of(c) for c in before.values()} == {f"{did}#key-1"}
    other = awarding_setup()  # another member's badges are not touched
    other_award = award_issue(actor=other[3], programme=other[0], recipient_email="x@example.org")

    out = run(organisation.slug, "--compromised", "--reason", "A laptop with the key was stolen.")

    assert out == (f"{did}#key-1 is no longer in the DID document of {organisation.name}; {did}#key-2 signs now.\n"
                   "Signed again: 3 badge(s), 0 endorsement(s), 1 status list(s).\n")
    document = Client().get(f"/organisations/{organisation.slug}/did.json").json()
    assert [m["id"] for m in document["verificationMethod"]] == [f"{did}#key-2"]
    assert document["assertionMethod"] == [f"{did}#key-2"] and "authentication" not in document
    key = IssuerKey.objects.get(organisation=organisation, fragment="key-1")
    assert key.compromised_at is not None and key.retired_at is not None
    keys = resolver()
    for award in Award.objects.filter(organisation=organisation):
        assert method_of(award.credential) == f"{did}#key-2"
        assert without_proof(award.credential) == without_proof(before[award.pk])  # only the proof changed
        assert vc.verify(award.credential, keys).verified, award.pk
        old = vc.verify(before[award.pk], keys)  # a copy downloaded before no longer verifies
        assert not old.verified and old.reason == "key_not_found", old
    # The revoked badge stays revoked: re-signed, and its bit still set on the re-signed list.
    (status_list,) = StatusList.objects.filter(organisation=organisation)
    assert method_of(status_list.credential) == f"{did}#key-2"
    assert vc.verify(status_list.credential, keys).verified
    assert vc.StatusList.decode(status_list.credential["credentialSubject"]["encodedList"]).get(awards[2].status.index)
    # The badge as served is the re-signed one.
    served = Client().get(f"/badges/{awards[0].public_id}.json").json()
    assert served == Award.objects.get(pk=awards[0].pk).credential
    other_award.refresh_from_db()
    assert method_of(other_award.credential).endswith("#key-1") and vc.verify(other_award.credential, keys).verified
    (event,) = AuditEvent.objects.filter(action="key.compromised")
    assert event.comment == "A laptop with the key was stolen."
    assert event.data == {"key": f"{did}#key-1", "now_signing": f"{did}#key-2", "awards_resigned": 3,
                          "endorsements_resigned": 0, "status_lists_resigned": 1}


def test_a_credential_forged_with_the_stolen_key_does_not_verify(issued, settings):
    _programme, _app, cast, _issuer, awards = issued
    did = organisation_did(cast.organisation)
    key = IssuerKey.objects.get(organisation=cast.organisation, fragment="key-1")
    stolen = vc.decrypt_private_key(key.private_key_encrypted, settings.KEY_ENCRYPTION_SECRET,
                                    context=f"organisation:{cast.organisation.pk}")
    forged = without_proof(awards[0].credential)
    forged["id"] = forged["id"].replace(str(awards[0].public_id), "00000000-0000-4000-8000-000000000000")
    forged = vc.sign(forged, stolen, f"{did}#key-1")
    assert vc.verify(forged, resolver()).verified  # before: the thief's badge passes
    run(cast.organisation.slug, "--compromised")
    result = vc.verify(forged, resolver())
    assert not result.verified and result.reason == "key_not_found"


def test_a_compromised_body_key_re_signs_the_endorsements_and_every_badge_carrying_one(issued):
    _programme, app, cast, _issuer, _awards = issued
    body_did, member_did = organisation_did(body()), organisation_did(cast.organisation)
    old_endorsement = copy.deepcopy(Endorsement.objects.get(pk=app.endorsement.pk).credential)
    before = {a.pk: copy.deepcopy(a.credential) for a in Award.objects.all()}

    out = run("body", "--compromised")

    assert "Signed again: 3 badge(s), 1 endorsement(s), 1 status list(s)." in out
    endorsement = Endorsement.objects.get(pk=app.endorsement.pk).credential
    assert method_of(endorsement) == f"{body_did}#key-2"
    assert without_proof(endorsement) == without_proof(old_endorsement)
    keys = resolver()
    assert vc.verify(endorsement, keys).verified
    assert vc.verify(old_endorsement, keys).reason == "key_not_found"
    for award in Award.objects.all():
        assert vc.embedded_endorsements(award.credential) == [endorsement]
        assert method_of(award.credential) == f"{member_did}#key-1"  # still the member's own (active) key
        assert vc.verify(award.credential, keys).verified
        # The badge as it was carries the endorsement signed with the compromised key.
        (embedded_before,) = vc.embedded_endorsements(before[award.pk])
        assert vc.verify(embedded_before, keys).reason == "key_not_found"
    (body_list,) = StatusList.objects.filter(organisation=body())
    assert method_of(body_list.credential) == f"{body_did}#key-2" and vc.verify(body_list.credential, keys).verified
    served = Client().get(f"/credentials/endorsements/{app.endorsement.public_id}").json()
    assert served == endorsement


def test_a_retired_key_can_be_named_and_the_active_one_is_kept(issued):
    programme, _app, cast, issuer, _awards = issued
    did = organisation_did(cast.organisation)
    run(cast.organisation.slug)  # an ordinary rotation first: key-2 signs, key-1 is retired
    later = award_issue(actor=issuer, programme=programme, recipient_email="later@example.org")
    out = run(cast.organisation.slug, "--compromised", "--key", "key-1")
    assert f"{did}#key-2 signs now" in out and "3 badge(s)" in out
    later.refresh_from_db()
    assert method_of(later.credential) == f"{did}#key-2"  # signed with the sound key: untouched
    assert IssuerKey.objects.filter(organisation=cast.organisation).count() == 2
    assert all(method_of(a.credential) == f"{did}#key-2" and vc.verify(a.credential, resolver()).verified
               for a in Award.objects.all())
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="key.").order_by("seq")] == \
        ["key.rotated", "key.compromised"]


@pytest.mark.parametrize(("args", "message"), [
    (["--compromised", "--key", "key-9"], "has no key 'key-9'"),
    (["--key", "key-1"], "use it with --compromised"),
])
def test_a_key_it_does_not_have_is_refused_and_nothing_is_written(issued, args, message):
    _programme, _app, cast, _issuer, _awards = issued
    credentials = [copy.deepcopy(a.credential) for a in Award.objects.order_by("pk")]
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=message):
        run(cast.organisation.slug, *args)
    assert [a.credential for a in Award.objects.order_by("pk")] == credentials
    assert AuditEvent.objects.count() == events
    assert IssuerKey.objects.filter(organisation=cast.organisation).count() == 1
    assert not IssuerKey.objects.filter(compromised_at__isnull=False).exists()


def test_a_key_already_marked_is_refused_and_nothing_is_written(issued):
    _programme, _app, cast, _issuer, _awards = issued
    run(cast.organisation.slug, "--compromised")
    credentials = [copy.deepcopy(a.credential) for a in Award.objects.order_by("pk")]
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=r"key-1 .* was already marked compromised"):
        run(cast.organisation.slug, "--compromised", "--key", "key-1")
    assert [a.credential for a in Award.objects.order_by("pk")] == credentials
    assert AuditEvent.objects.count() == events
    assert IssuerKey.objects.filter(organisation=cast.organisation).count() == 2
