"""The body's list of endorsed issuers (endorsement.trust): the OpenID Federation entity configuration
and fetch endpoint, and the signed list credential. Signatures are checked against the body's DID
document, not against what the answers say about themselves."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone, translation
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, OKPKey

from badges import credentials as vc
from config.tasking import enqueued, task_named
from endorsement import renewals, services, trust
from endorsement.models import ApplicationState, Endorsement, TrustListCredential
from endorsement.registry import registry_current, registry_refresh
from endorsement.tasks import sign_trust_list
from institutions import services as institution_services
from institutions.keys import did_document, issuer_key_rotate, organisation_did
from tests.endorsement.renewal_walk import ends_in, walk
from tests.factories import application_in, body

pytestmark = pytest.mark.django_db
S = ApplicationState


def body_keys() -> KeySet:
    """The body's keys from its DID document, as a JOSE key set."""
    keys = vc.assertion_keys(did_document(body()))
    return KeySet([OKPKey.import_key(public, {"kid": method}) for method, public in keys.items()])


def decode(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a JWT signed by one of the body's keys; fails otherwise."""
    decoded = jwt.decode(token, body_keys(), algorithms=["EdDSA"])
    return decoded.header, decoded.claims


@pytest.fixture
def endorsed(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    application, cast = application_in(S.PUBLISHED)
    cast.organisation.website = "https://uni.example.ac.jp/"
    cast.organisation.save(update_fields=["website"])
    registry_refresh()
    return application, cast


def fetch(client, sub: str | None, raw: bool = False):
    url = reverse("federation-fetch")
    if sub is None:
        return client.get(url)
    return client.get(f"{url}?sub={sub}") if raw else client.get(url, {"sub": sub})


def test_the_entity_configuration_is_signed_by_the_body_and_names_the_fetch_endpoint(client, endorsed):
    response = client.get("/.well-known/openid-federation")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/entity-statement+jwt"
    assert response["Access-Control-Allow-Origin"] == "*"
    header, claims = decode(response.content.decode())
    assert header["typ"] == "entity-statement+jwt" and header["alg"] == "EdDSA"
    assert header["kid"].startswith(organisation_did(body()) + "#")
    assert claims["iss"] == claims["sub"] == settings.SITE_URL
    assert 0 < claims["exp"] - claims["iat"] <= 24 * 3600
    entity = claims["metadata"]["federation_entity"]
    assert entity["federation_fetch_endpoint"] == settings.SITE_URL + "/federation/fetch"
    assert entity["federation_list_endpoint"] == settings.SITE_URL + "/federation/list"
    assert entity["organization_name"] == body().name
    assert entity["homepage_uri"]
    # Its own jwks are the body's DID document keys.
    assert {k["kid"] for k in claims["jwks"]["keys"]} == set(vc.assertion_keys(did_document(body())))
    extra = claims["metadata"]["institution_additional_information"]
    assert extra["trust_list_credential"] == settings.SITE_URL + "/registry/trust-list.json"


def test_the_fetch_endpoint_answers_an_endorsed_issuer_with_a_signed_statement(client, endorsed):
    application, cast = endorsed
    did = organisation_did(cast.organisation)
    response = fetch(client, did)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/entity-statement+jwt"
    _header, claims = decode(response.content.decode())
    assert claims["iss"] == settings.SITE_URL and claims["sub"] == did
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    entity = claims["metadata"]["federation_entity"]
    assert entity == {"organization_name": cast.organisation.name, "homepage_uri": "https://uni.example.ac.jp/",
                      "location": "Japan"}
    endorsement = claims["metadata"]["endorsement"]
    assert endorsement["endorser"] == organisation_did(body())
    [achievement] = endorsement["achievements"]
    assert achievement["endorsed_until"] == vc.format_datetime(application.endorsement.valid_until)
    assert endorsement["endorsed_until"] == achievement["endorsed_until"]
    assert achievement["id"].endswith(f"/achievements/{application.programme.public_id}.json")
    credential_path = f"/credentials/endorsements/{application.endorsement.public_id}"
    assert achievement["endorsement_credential"].endswith(credential_path)
    # The subordinate's keys are its own DID document's.
    assert {k["kid"] for k in claims["jwks"]["keys"]} == set(vc.assertion_keys(did_document(cast.organisation)))


def test_a_did_sent_without_percent_encoding_is_found_as_the_dcc_client_sends_it(client, endorsed, settings):
    _application, cast = endorsed
    did = organisation_did(cast.organisation)
    assert "%3A" in did  # the test server's did:web has a port
    response = fetch(client, did, raw=True)  # ?sub=did:web:testserver%3A8000:… as the DCC client writes it
    assert response.status_code == 200
    assert decode(response.content.decode())[1]["sub"] == did


def test_anyone_else_gets_the_specification_s_404_and_no_sub_a_400(client, endorsed):
    stranger = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    response = fetch(client, stranger)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found",
                               "error_description": f"{stranger} is not an issuer endorsed by this body."}
    assert fetch(client, organisation_did(body())).status_code == 404  # the anchor is no subordinate of itself
    response = fetch(client, None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert TrustListCredential.objects.count() <= 1  # asking signs no list


@pytest.mark.parametrize("change", ["suspend", "revoke", "membership"])
def test_a_suspended_or_revoked_endorsement_or_a_suspended_member_leaves_both_answers(
        client, endorsed, change, django_capture_on_commit_callbacks):
    application, cast = endorsed
    did = organisation_did(cast.organisation)
    assert fetch(client, did).status_code == 200
    assert did in client.get(reverse("federation-list")).json()
    first = trust.trust_list_refresh()
    assert [i["id"] for i in first.credential["credentialSubject"]["endorsedIssuers"]] == [did]
    with django_capture_on_commit_callbacks(execute=True):
        if change == "suspend":
            services.endorsement_suspend(actor=cast.manager, endorsement=application.endorsement, comment="Audit.")
        elif change == "revoke":
            services.endorsement_revoke(actor=cast.manager, endorsement=application.endorsement, comment="Fraud.")
        else:
            institution_services.organisation_suspend(actor=cast.manager, organisation=cast.organisation,
                                                      comment="Unpaid fees.")
    assert fetch(client, did).status_code == 404
    assert client.get(reverse("federation-list")).json() == []
    # Eager (no broker): the commit only marked the list due; its first reader signs it.
    assert TrustListCredential.objects.latest().pk == first.pk
    assert trust.trust_list_due(first, registry_current(), timezone.now())
    served = client.get(reverse("registry:trust_list")).json()
    newest = TrustListCredential.objects.latest()
    assert newest.pk != first.pk and served == newest.credential
    assert newest.credential["credentialSubject"]["endorsedIssuers"] == []
    assert not trust.trust_list_due(newest, registry_current(), timezone.now())


def test_an_endorsement_past_its_end_leaves_the_answers_before_the_expiry_task_records_it(client, endorsed):
    application, cast = endorsed
    did = organisation_did(cast.organisation)
    with time_machine.travel(application.endorsement.valid_until + timedelta(minutes=1), tick=False):
        assert fetch(client, did).status_code == 404
        assert trust.trust_list_refresh().credential["credentialSubject"]["endorsedIssuers"] == []


def test_the_list_credential_verifies_with_the_body_s_did_document_and_lives_two_days(client, endorsed):
    application, cast = endorsed
    response = client.get(reverse("registry:trust_list"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vc+ld+json")
    credential = json.loads(response.content)
    result = vc.verify(credential, vc.make_key_resolver([did_document(body())], allow_did_key=False))
    assert result.verified, result.message
    assert credential["id"] == settings.SITE_URL + "/registry/trust-list.json"
    assert credential["issuer"]["id"] == organisation_did(body())
    valid_from, valid_until = (timezone.datetime.fromisoformat(credential[k].replace("Z", "+00:00"))
                               for k in ("validFrom", "validUntil"))
    assert valid_until - valid_from == timedelta(days=2)
    [issuer] = credential["credentialSubject"]["endorsedIssuers"]
    assert issuer["id"] == organisation_did(cast.organisation) and issuer["name"] == cast.organisation.name
    [achievement] = issuer["endorsedAchievements"]
    assert achievement["endorsedUntil"] == vc.format_datetime(application.endorsement.valid_until)
    tampered = json.loads(response.content)
    tampered_achievement = tampered["credentialSubject"]["endorsedIssuers"][0]["endorsedAchievements"][0]
    tampered_achievement["endorsedUntil"] = "2099-01-01T00:00:00Z"
    assert not vc.verify(tampered, vc.make_key_resolver([did_document(body())], allow_did_key=False)).verified


def test_an_unchanged_list_is_signed_again_only_when_a_day_old(endorsed):
    first = trust.trust_list_refresh()
    assert trust.trust_list_refresh().pk == first.pk
    with time_machine.travel(first.signed_at + timedelta(hours=23), tick=False):
        assert trust.trust_list_refresh().pk == first.pk
    with time_machine.travel(first.signed_at + timedelta(days=1, minutes=1), tick=False):
        second = trust.trust_list_refresh()
        assert second.pk != first.pk and second.digest == first.digest
        assert second.valid_until == second.signed_at + timedelta(days=2)
    assert TrustListCredential.objects.count() == 2


def test_the_served_list_is_never_an_expired_one(client, endorsed):
    first = trust.trust_list_refresh()
    with time_machine.travel(first.valid_until + timedelta(hours=1), tick=False):  # the beat stopped
        credential = client.get(reverse("registry:trust_list")).json()
        assert credential["validUntil"] > vc.format_datetime(timezone.now())


def test_after_a_key_rotation_statements_are_signed_with_the_new_key_and_both_keys_are_listed(client, endorsed):
    new_key = issuer_key_rotate(body())
    header, claims = decode(client.get("/.well-known/openid-federation").content.decode())
    assert header["kid"] == f"{organisation_did(body())}#{new_key.fragment}"
    assert len(claims["jwks"]["keys"]) == 2


def test_a_statement_signed_by_another_key_fails_the_check_these_tests_use(endorsed):
    other = OKPKey.generate_key("Ed25519")
    kid = next(iter(vc.assertion_keys(did_document(body()))))  # the body's key id, another key's signature
    token = jwt.encode({"alg": "EdDSA", "kid": kid}, {"iss": settings.SITE_URL}, other, algorithms=["EdDSA"])
    with pytest.raises(BadSignatureError):
        decode(token)


def test_the_registry_page_and_registry_json_link_both_forms(client, endorsed):
    html = client.get(reverse("registry:index")).content.decode()
    assert f'href="{reverse("registry:trust_list")}"' in html
    assert 'href="/.well-known/openid-federation"' in html
    links = client.get(reverse("registry:json")).json()["links"]
    assert links == {"trust_list_credential": settings.SITE_URL + "/registry/trust-list.json",
                     "openid_federation": settings.SITE_URL + "/.well-known/openid-federation"}
    with translation.override("ja"):
        html = client.get(reverse("registry:index"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "認証済みの組織の一覧（署名付きクレデンシャル、有効期間2日）" in html


def test_the_beat_signs_the_list_hourly_and_the_task_is_idempotent(endorsed):
    entry = settings.CELERY_BEAT_SCHEDULE["sign-trust-list"]
    assert task_named(entry["task"]) is sign_trust_list
    first = sign_trust_list.delay().get()
    assert sign_trust_list.delay().get() == first
    assert TrustListCredential.objects.count() == 1


def test_a_registry_refresh_enqueues_the_list_only_when_it_wrote_a_new_snapshot(
        endorsed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        registry_refresh()  # nothing changed since the fixture's refresh
    assert enqueued(callbacks, "endorsement.tasks.sign_trust_list") == []
    application, _cast = endorsed
    with django_capture_on_commit_callbacks() as callbacks:
        services.endorsement_suspend(actor=_cast.manager, endorsement=application.endorsement, comment="Audit.")
    assert enqueued(callbacks, "endorsement.tasks.refresh_registry")
    with django_capture_on_commit_callbacks() as callbacks:
        registry_refresh()
    assert len(enqueued(callbacks, "endorsement.tasks.sign_trust_list")) == 1


def test_the_federation_documents_are_open_to_other_origins_and_read_only(client, endorsed):
    did = organisation_did(endorsed[1].organisation)
    preflight = client.options(reverse("federation-fetch"), HTTP_ORIGIN="https://verifier.example",
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert preflight.status_code == 200 and preflight["Access-Control-Allow-Origin"] == "*"
    before = TrustListCredential.objects.count()
    for url in ("/.well-known/openid-federation", reverse("federation-fetch") + f"?sub={did}",
                reverse("federation-list"), reverse("registry:trust_list")):
        assert client.post(url).status_code == 405, url
    assert TrustListCredential.objects.count() == before


@pytest.mark.parametrize("sub", ["did:web:127.0.0.1%3A8000:organisations:nobody", "x" * 5000, "did:web:%00",
                                 "  "])
def test_an_odd_or_unknown_sub_is_an_error_and_changes_nothing(client, endorsed, sub):
    before = TrustListCredential.objects.count()
    response = fetch(client, sub)
    assert response.status_code in (400, 404)
    assert response.json()["error"] in ("invalid_request", "not_found")
    assert TrustListCredential.objects.count() == before


def test_a_started_renewal_keeps_the_issuer_listed_with_no_gap_and_the_renewal_s_end(client, endorsed):
    application, cast = endorsed
    did = organisation_did(cast.organisation)
    old = ends_in(Endorsement.objects.get(application=application), 30)
    new = Endorsement.objects.get(application=walk(renewals.endorsement_renew(actor=cast.editor, endorsement=old),
                                                   cast))
    end = timezone.now() + timedelta(minutes=5)
    Endorsement.objects.filter(pk=old.pk).update(valid_until=end)
    Endorsement.objects.filter(pk=new.pk).update(valid_from=end)
    new.refresh_from_db()
    registry_refresh()
    before = trust.endorsed_issuers_now()[did].achievements[0]
    assert before["endorsedUntil"] == vc.format_datetime(end)
    # Past the old one's end, before the expiry task starts the renewal: listed, until the renewal's end.
    with time_machine.travel(end + timedelta(minutes=1), tick=False):
        assert fetch(client, did).status_code == 200
        after = trust.endorsed_issuers_now()[did].achievements[0]
        assert after["endorsedUntil"] == vc.format_datetime(new.valid_until)


def test_a_statement_never_outlives_what_it_endorses(client, endorsed):
    application, cast = endorsed
    end = ends_in(Endorsement.objects.get(application=application), 10 / (24 * 60))  # ten minutes from now
    registry_refresh()
    _header, claims = decode(fetch(client, organisation_did(cast.organisation)).content.decode())
    assert claims["exp"] == int(end.valid_until.timestamp())
    assert claims["metadata"]["endorsement"]["endorsed_until"] == vc.format_datetime(end.valid_until)


def test_a_read_of_a_list_not_due_derives_nothing_and_a_standing_ending_by_time_makes_it_due(
        client, endorsed, django_assert_max_num_queries):
    application, _cast = endorsed
    first = trust.trust_list_current()
    assert not trust.trust_list_due(first, registry_current(), timezone.now())
    with django_assert_max_num_queries(2):  # the newest list and the registry's head: no derivation
        assert trust.trust_list_current().pk == first.pk
    assert first.changes_at == application.endorsement.valid_until  # the end of its one endorsement
    with time_machine.travel(application.endorsement.valid_until + timedelta(minutes=1), tick=False):
        assert trust.trust_list_due(first, registry_current(), timezone.now())
        ended = trust.trust_list_current()
        assert ended.pk != first.pk and ended.credential["credentialSubject"]["endorsedIssuers"] == []


def test_a_new_snapshot_with_the_same_list_is_checked_not_signed_again(endorsed):
    _application, cast = endorsed
    first = trust.trust_list_current()
    cast.organisation.description = "A new description, not part of the list."  # in the registry only
    cast.organisation.save(update_fields=["description"])
    before = registry_current().digest
    registry_refresh()
    assert registry_current().digest != before and trust.trust_list_due(first, registry_current(), timezone.now())
    again = trust.trust_list_current()
    assert again.pk == first.pk and TrustListCredential.objects.count() == 1
    assert TrustListCredential.objects.get().registry_digest == registry_current().digest


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="two connections waiting on a row lock: PostgreSQL (SQLite's shared in-memory test "
                           "database refuses a second writer at once instead of waiting)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_reader_arriving_while_the_list_is_signed_waits_and_is_served_that_list(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    application_in(S.PUBLISHED)
    registry_refresh()
    signer_has_lock, reader_started = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def signer() -> None:
        try:
            with transaction.atomic():
                trust._lock_signing(body().pk)
                signer_has_lock.set()
                results["signed"] = trust.trust_list_refresh()
                reader_started.wait(10)
                time.sleep(0.5)  # the reader is now waiting on the lock
                results["committed_at"] = time.monotonic()
        finally:
            connections.close_all()

    def reader() -> None:
        try:
            signer_has_lock.wait(10)
            reader_started.set()
            results["served"] = trust.trust_list_current()
            results["served_at"] = time.monotonic()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=signer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results["served"].pk == results["signed"].pk  # the reader was handed the list signed meanwhile
    assert results["served_at"] >= results["committed_at"]  # after waiting for the signer's commit
    assert TrustListCredential.objects.count() == 1  # signed once
