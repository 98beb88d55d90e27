"""Webhooks delivered to real receivers on loopback: each event once, signed (checked with the
standardwebhooks library), only to the organisation whose data it is; retries with backoff on a
moved clock; a replay with the same webhook-id; an endpoint disabled after days of failure."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from badges.awards import award_issue, award_revoke
from badges.batches import award_batch_create, rows_from_json
from endorsement import services
from endorsement.reports import issuance_report_file
from institutions.models import Role
from tests.factories import Cast, OrganisationFactory, ProgrammeFactory, awarding_setup, manager, staff
from webhooks import services as webhooks
from webhooks.delivery import deliveries_send_due
from webhooks.models import BODY_EVENTS, MEMBER_EVENTS, WebhookDelivery, WebhookEndpoint
from webhooks.secrets import endpoint_secret_text

from .receiver import receiver

pytestmark = pytest.mark.django_db
State = WebhookDelivery.State


def _endpoint(owner, organisation, url, events=None):
    return webhooks.endpoint_create(actor=owner, organisation=organisation, url=url,
                                    events=[str(e) for e in (events or MEMBER_EVENTS)])


def test_each_event_arrives_once_signed_and_only_at_its_organisation(django_capture_on_commit_callbacks):
    programme, application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    other = OrganisationFactory()
    other_owner = staff(other, Role.OWNER)
    body_manager = manager()
    with receiver() as ours, receiver() as theirs, receiver() as bodys:
        endpoint, secret = _endpoint(owner, cast.organisation, ours.url())
        _endpoint(other_owner, other, theirs.url())
        body_endpoint, body_secret = _endpoint(body_manager, application.organisation.__class__.objects.get(
            is_certification_body=True), bodys.url(), events=BODY_EVENTS)

        with django_capture_on_commit_callbacks(execute=True):
            award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                                recipient_name="Hanako")
        with django_capture_on_commit_callbacks(execute=True):
            award_revoke(actor=issuer, award=award, reason="Issued by mistake")
        with django_capture_on_commit_callbacks(execute=True):
            award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(
                [{"email": "learner@example.org", "name": "Learner"}]))
        second = ProgrammeFactory(organisation=cast.organisation, **{
            k: getattr(programme, k) for k in ("name_en", "name_ja", "description_en", "description_ja",
                                               "criteria_narrative", "learning_outcomes", "learning_hours", "level",
                                               "level_framework", "assessment_method", "evidence_policy",
                                               "quality_assurance", "responsible_person")})
        with django_capture_on_commit_callbacks(execute=True):
            draft = services.application_create(actor=cast.editor, programme=second)
            services.application_submit(actor=cast.editor, application=draft)
        endorsement = application.endorsement
        with django_capture_on_commit_callbacks(execute=True):
            services.endorsement_suspend(actor=cast.manager, endorsement=endorsement, comment="Under review")
        body_payloads = bodys.verified(body_secret)
        today = timezone.now().date()
        with time_machine.travel(timezone.now() + timedelta(days=40)):
            with django_capture_on_commit_callbacks(execute=True):
                issuance_report_file(actor=cast.editor, programme=programme, period_start=today,
                                     period_end=today + timedelta(days=30), count=12, platform="Moodle")
            last = bodys.received[-1]  # checked when it was sent (40 days on)
            body_payloads.append(Webhook(body_secret).verify(last.body, last.headers))

        payloads = ours.verified(secret)  # every signature checks with the endpoint's secret
        types = [p["type"] for p in payloads]
        assert types == ["award.issued", "award.revoked", "award.issued", "award_batch.finished",
                         "application.state_changed", "application.state_changed", "endorsement.standing_changed"]
        assert len(set(ours.ids())) == len(ours.received)  # each event once, each with its own id
        assert payloads[0]["data"]["award"]["id"] == str(award.public_id)
        assert payloads[0]["data"]["organisation"]["slug"] == cast.organisation.slug
        assert payloads[1]["data"]["award"]["revocation_reason"] == "Issued by mistake"
        assert [p["data"]["application"]["to"] for p in payloads[4:6]] == ["draft", "submitted"]
        assert payloads[6]["data"]["endorsement"]["standing"] == "suspended"
        assert theirs.received == []  # never another member's event

        assert [p["type"] for p in body_payloads] == ["application.received", "issuance_report.filed"]
        assert body_payloads[0]["data"]["organisation"]["slug"] == cast.organisation.slug
        assert body_payloads[1]["data"]["issuance_report"]["count"] == 12
        # the log: every delivery delivered at the first attempt, with the receiver's status
        assert set(endpoint.deliveries.values_list("state", "attempts", "last_status_code")) == {
            (State.DELIVERED, 1, 204)}
        assert ours.received[0].headers["content-type"] == "application/json"
        assert body_endpoint.deliveries.count() == 2


def test_the_evidence_link_changing_standing_is_reported(django_capture_on_commit_callbacks):
    from tests.badges.http_stand_in import serve

    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    with receiver() as ours, serve() as site:
        _endpoint(owner, cast.organisation, ours.url(), events=["evidence.standing_changed"])
        link = site.route("/work", b"<p>my work</p>", content_type="text/html")
        with django_capture_on_commit_callbacks(execute=True):
            award_issue(actor=issuer, programme=programme, recipient_email="a@example.org", evidence_url=link)
        from badges.evidence import evidence_recheck
        from badges.models import EvidenceCheck

        site.route("/work", b"<p>something else</p>", content_type="text/html")
        with django_capture_on_commit_callbacks(execute=True):
            evidence_recheck(EvidenceCheck.objects.get().pk)
        changes = [(p["data"]["evidence"]["previous_standing"], p["data"]["evidence"]["standing"])
                   for p in (json.loads(r.body) for r in ours.received)]
        assert changes == [("pending", "reachable"), ("reachable", "changed")]


def test_a_failing_receiver_gets_retries_with_backoff_then_the_delivery_fails(django_capture_on_commit_callbacks,
                                                                           settings):
    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 30  # this test is about one delivery's retries only
    start = timezone.now()
    with receiver(status=503) as failing, time_machine.travel(start, tick=False) as clock:
        _endpoint(owner, cast.organisation, failing.url(), events=["award.issued"])
        with django_capture_on_commit_callbacks(execute=True):
            award_issue(actor=issuer, programme=programme, recipient_email="a@example.org")
        delivery = WebhookDelivery.objects.get()
        assert (delivery.state, delivery.attempts, delivery.last_status_code) == (State.PENDING, 1, 503)
        assert "503" in delivery.last_error
        assert delivery.next_attempt_at == start + timedelta(seconds=30)

        clock.shift(timedelta(seconds=29))
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_send_due() == 0  # not due yet
        waits = []
        for _ in range(30):
            delivery.refresh_from_db()
            if delivery.state != State.PENDING:
                break
            clock.move_to(delivery.next_attempt_at)
            before = delivery.last_attempt_at
            with django_capture_on_commit_callbacks(execute=True):
                assert deliveries_send_due() == 1
            delivery.refresh_from_db()
            waits.append(delivery.last_attempt_at - before)
        assert delivery.state == State.FAILED
        assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]  # doubling
        assert max(waits) <= timedelta(hours=4)
        assert delivery.last_attempt_at == delivery.retry_until == start + timedelta(hours=24)
        assert len(failing.received) == delivery.attempts
        assert set(failing.ids()) == {delivery.webhook_id}  # every attempt carries the same webhook-id


def test_a_replay_resends_the_same_webhook_id(django_capture_on_commit_callbacks):
    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    with receiver() as ours:
        _endpoint_row, secret = _endpoint(owner, cast.organisation, ours.url(), events=["award.issued"])
        with django_capture_on_commit_callbacks(execute=True):
            award_issue(actor=issuer, programme=programme, recipient_email="a@example.org")
        delivery = WebhookDelivery.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.delivery_replay(actor=owner, delivery=delivery)
        assert ours.ids() == [delivery.webhook_id, delivery.webhook_id]
        assert ours.received[0].body == ours.received[1].body  # the same payload
        assert ours.verified(secret)[0] == ours.verified(secret)[1]
        delivery.refresh_from_db()
        assert (delivery.state, delivery.attempts) == (State.DELIVERED, 2)
        assert WebhookDelivery.objects.count() == 1


def test_an_endpoint_failing_for_days_is_disabled_and_its_owner_told(django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 3
    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER, email="owner@example.org")
    start = timezone.now()
    with receiver(status=500) as failing, time_machine.travel(start, tick=False) as clock:
        endpoint, _secret = _endpoint(owner, cast.organisation, failing.url(), events=["award.issued"])
        for day in range(4):
            clock.move_to(start + timedelta(days=day, hours=1))
            with django_capture_on_commit_callbacks(execute=True):
                award_issue(actor=issuer, programme=programme, recipient_email=f"l{day}@example.org")
            endpoint.refresh_from_db()
            assert endpoint.enabled is (day < 3), day
        assert endpoint.failing_since == start + timedelta(hours=1)
        assert "No delivery succeeded for 3 days" in endpoint.disabled_reason
        assert "HTTP 500" in endpoint.disabled_reason
        told = [m for m in mail.outbox if "Webhook endpoint disabled" in m.subject]
        assert len(told) == 1 and "owner@example.org" in told[0].to and failing.url() in told[0].body
        assert not endpoint.deliveries.filter(state=State.PENDING).exists()
        # disabled: nothing more is written or sent, and a replay is refused until it is enabled again
        sent = len(failing.received)
        with django_capture_on_commit_callbacks(execute=True):
            award_issue(actor=issuer, programme=programme, recipient_email="late@example.org")
            assert deliveries_send_due() == 0
        assert len(failing.received) == sent and endpoint.deliveries.count() == 4
        with pytest.raises(Exception, match="disabled"):
            webhooks.delivery_replay(actor=owner, delivery=endpoint.deliveries.first())
        webhooks.endpoint_set_enabled(actor=owner, endpoint=endpoint, enabled=True)
        endpoint.refresh_from_db()
        assert endpoint.enabled and endpoint.failing_since is None and endpoint.disabled_reason == ""


def test_a_receiver_that_succeeds_again_clears_the_run_of_failures(django_capture_on_commit_callbacks):
    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    with receiver(status=500) as flaky:
        endpoint, _secret = _endpoint(owner, cast.organisation, flaky.url(), events=["award.issued"])
        with django_capture_on_commit_callbacks(execute=True):
            award_issue(actor=issuer, programme=programme, recipient_email="a@example.org")
        endpoint.refresh_from_db()
        assert endpoint.failing_since is not None
        flaky.status = 200
        with time_machine.travel(timezone.now() + timedelta(minutes=1)), \
                django_capture_on_commit_callbacks(execute=True):
            assert deliveries_send_due() == 1
        endpoint.refresh_from_db()
        assert endpoint.failing_since is None
        assert WebhookDelivery.objects.get().state == State.DELIVERED


def test_a_member_cannot_see_or_replay_another_members_deliveries():
    cast = Cast()
    owner = staff(cast.organisation, Role.OWNER)
    other_owner = staff(OrganisationFactory(), Role.OWNER)
    endpoint, _secret = _endpoint(owner, cast.organisation, "http://127.0.0.1:9/hook")
    from config.errors import NotFound, NotPermitted

    with pytest.raises(NotFound):
        webhooks.endpoint_of(other_owner, endpoint.public_id)
    with pytest.raises(NotPermitted):
        webhooks.endpoint_of(cast.editor, endpoint.public_id)  # an editor is not an owner
    with pytest.raises(NotPermitted):
        webhooks.endpoint_create(actor=other_owner, organisation=cast.organisation, url="http://127.0.0.1:9/x",
                                 events=["award.issued"])
    assert WebhookEndpoint.objects.count() == 1


def test_the_secret_is_in_the_standard_form_and_rotating_it_changes_the_signature(
        django_capture_on_commit_callbacks):
    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    with receiver() as ours:
        endpoint, secret = _endpoint(owner, cast.organisation, ours.url(), events=["award.issued"])
        assert secret.startswith("whsec_") and endpoint_secret_text(endpoint) == secret
        assert secret.removeprefix("whsec_") not in endpoint.secret_encrypted  # encrypted at rest
        endpoint, new_secret = webhooks.endpoint_rotate_secret(actor=owner, endpoint=endpoint)
        assert new_secret != secret
        with django_capture_on_commit_callbacks(execute=True):
            award_issue(actor=issuer, programme=programme, recipient_email="a@example.org")
        assert ours.verified(new_secret)[0]["type"] == "award.issued"
        from standardwebhooks.webhooks import WebhookVerificationError

        with pytest.raises(WebhookVerificationError):
            ours.verified(secret)


def test_a_failed_batch_is_reported_once(django_capture_on_commit_callbacks):
    from badges.batches import award_batch_fail

    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    with receiver() as ours:
        _endpoint(owner, cast.organisation, ours.url(), events=["award_batch.failed", "award_batch.finished"])
        batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(
            [{"email": "learner@example.org", "name": "Learner"}]))  # its chunks never run: on_commit not executed
        with django_capture_on_commit_callbacks(execute=True):
            award_batch_fail(batch.pk, "The worker was lost.")
        with time_machine.travel(timezone.now() + timedelta(minutes=5)), \
                django_capture_on_commit_callbacks(execute=True):
            award_batch_fail(batch.pk, "Another chunk failed too.")  # failed already: not reported again
        payloads = [json.loads(r.body) for r in ours.received]
        assert [p["type"] for p in payloads] == ["award_batch.failed"]
        assert payloads[0]["data"]["batch"]["error"] == "The worker was lost."


def test_a_batch_of_awards_writes_one_award_issued_each_in_few_queries(django_capture_on_commit_callbacks,
                                                                      django_assert_max_num_queries):
    from badges.batches import award_batch_issue_chunk

    programme, _application, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    with receiver() as ours:
        _endpoint(owner, cast.organisation, ours.url(), events=["award.issued"])
        batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(
            [{"email": f"l{i}@example.org", "name": f"Learner {i}"} for i in range(40)]))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            award_batch_issue_chunk(batch.pk, 0, 40)
        deliveries = WebhookDelivery.objects.filter(event_type="award.issued")
        assert deliveries.count() == 40 and len({d.source for d in deliveries}) == 40
        assert len([c for c in callbacks if getattr(c, "task", "") == "webhooks.tasks.deliver_webhook"]) == 40
        from badges.models import Award
        from webhooks.events import webhooks_for_awards_issued

        awards = list(Award.objects.filter(batch=batch).select_related("programme", "organisation", "batch"))
        with django_assert_max_num_queries(6):  # the same chunk again: nothing new, and no query per award
            assert webhooks_for_awards_issued(awards) == 0


def test_a_pathway_application_and_its_endorsement_are_reported_under_pathway(django_capture_on_commit_callbacks):
    from tests.pathways.helpers import pathway_in

    cast = Cast(OrganisationFactory())
    owner = staff(cast.organisation, Role.OWNER)
    with receiver() as ours:
        _endpoint(owner, cast.organisation, ours.url())
        with django_capture_on_commit_callbacks(execute=True):
            application, _cast, pathway = pathway_in("endorsed", cast=cast)
        with django_capture_on_commit_callbacks(execute=True):
            services.endorsement_suspend(actor=cast.manager, endorsement=application.endorsement, comment="Check")
        payloads = ours.verified(endpoint_secret_text(WebhookEndpoint.objects.get(organisation=cast.organisation)))
    changes = [p["data"]["application"] for p in payloads if p["type"] == "application.state_changed"]
    assert [c["to"] for c in changes][:2] == ["draft", "submitted"]
    assert all("programme" not in c for c in changes)
    assert {c["pathway"]["id"] for c in changes} == {str(pathway.public_id)}
    standing = [p["data"]["endorsement"] for p in payloads if p["type"] == "endorsement.standing_changed"]
    assert standing[-1]["standing"] == "suspended"
    assert standing[-1]["pathway"] == {"id": str(pathway.public_id), "name_en": pathway.name_en,
                                       "name_ja": pathway.name_ja}
