"""`seed_demo` builds the demo through the services (so it commits as pages do, and its after-commit
tasks sign and publish), is safe to run again, and prints the logins; `verify_audit` checks it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from endorsement.audit import audit_verify
from endorsement.management.demo_data import DEMO_PASSWORD, ORGANISATIONS
from endorsement.models import Application, ApplicationState, AuditEvent, Endorsement, RegistrySnapshot
from institutions.models import MembershipState, Organisation
from institutions.services import organisation_apply
from tests.factories import login_request

# seed_demo commits after each service call (publishing needs the credential signed after commit);
# serialized_rollback brings back the rows the migrations made (the body, the criteria table).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
S = ApplicationState
User = get_user_model()


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()
            if m._meta.app_label in {"auth", "institutions", "badges", "endorsement"}}


def logins_and_urls(output: str) -> str:
    return output[output.index("username"):]


def test_seed_demo_creates_every_role_every_state_and_a_registry_of_the_published():
    output = seed()

    states = {s: Application.objects.filter(state=s).count() for s in S.values}
    assert all(states[s] >= 1 for s in S.values), states
    assert states[S.PUBLISHED] >= 2
    in_review = Application.objects.get(state=S.IN_REVIEW)
    assert in_review.reviews.filter(judgements__isnull=False).exists()  # judged in part
    assert not in_review.reviews.filter(completed_at__isnull=False).exists()

    kinds = set(Organisation.objects.filter(membership=MembershipState.ACTIVE, is_certification_body=False)
                .values_list("kind", flat=True))
    assert {"university", "college", "company"} <= kinds
    assert Organisation.objects.filter(membership=MembershipState.APPLIED).exists()
    assert all(o.name_ja for o in Organisation.objects.filter(is_certification_body=False))

    published = set(Application.objects.filter(state=S.PUBLISHED, programme__isnull=False)
                    .values_list("programme__public_id", flat=True))
    assert {e["id"] for e in RegistrySnapshot.objects.latest().entries} == {str(p) for p in published}
    assert all(e.credential for e in Endorsement.objects.all())  # signed after commit, before publishing

    for username, role in [("admin", "superuser"), ("manager", "manager"), ("reviewer", "reviewer"),
                           ("owner", "owner"), ("editor", "editor"), ("issuer", "issuer")]:
        assert any(line.split()[:2] == [username, role] and line.split()[-1] == DEMO_PASSWORD
                   for line in output.splitlines()), (username, output)
    for path in ["/admin/", "/portal/", "/registry/", "/api/docs/"]:
        assert f"http://127.0.0.1:8000{path}" in output
    assert audit_verify().ok


def test_the_demo_logins_work_and_the_pending_owner_cannot_log_in_yet(client):
    seed()
    for username in ["admin", "manager", "reviewer", "reviewer2", "owner", "editor", "issuer"]:
        assert client.login(request=login_request(), username=username, password=DEMO_PASSWORD), username
    assert User.objects.get(username="admin").is_superuser
    pending = next(o for o in ORGANISATIONS if not o["approve"])
    assert not client.login(request=login_request(), username=pending["owner"]["username"], password=DEMO_PASSWORD)


REACHED_BY = {
    S.DRAFT: "application.created", S.SUBMITTED: "application.submitted", S.IN_REVIEW: "application.review_started",
    S.CHANGES_REQUESTED: "application.changes_requested", S.ENDORSED: "application.endorsed",
    S.PUBLISHED: "application.published", S.REJECTED: "application.rejected", S.WITHDRAWN: "application.withdrawn",
}


def test_every_demo_change_went_through_the_services_and_left_an_audit_event():
    seed()
    for application in Application.objects.all():
        trail = AuditEvent.objects.filter(subject_type="application", subject_id=str(application.pk))
        assert trail.filter(to_state=application.state).order_by("-seq").first().action == \
            REACHED_BY[application.state]
    assert AuditEvent.objects.filter(action="organisation.approved").count() == 3
    assert AuditEvent.objects.filter(action="conflict.declared").count() == 1
    assert AuditEvent.objects.filter(action="endorsement.signed").count() == Endorsement.objects.count()


def test_running_seed_demo_again_changes_nothing_and_prints_the_same_logins():
    first = seed()
    counts, digest = row_counts(), RegistrySnapshot.objects.latest().digest

    second = seed()

    assert row_counts() == counts
    assert RegistrySnapshot.objects.latest().digest == digest
    assert "Demo data already present: nothing to do." in second
    assert logins_and_urls(second) == logins_and_urls(first)
    assert audit_verify().ok


def test_seed_demo_finishes_what_an_interrupted_run_left():
    minato = ORGANISATIONS[0]
    organisation_apply(data=minato["data"], owner={**minato["owner"], "password": DEMO_PASSWORD})

    seed()

    organisation = Organisation.objects.get(slug=minato["data"]["slug"])
    assert Organisation.objects.filter(name=minato["data"]["name"]).count() == 1
    assert organisation.membership == MembershipState.ACTIVE
    published = Application.objects.filter(organisation=organisation, state=S.PUBLISHED, programme__isnull=False)
    assert published.count() == 2


def test_seed_demo_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    counts = row_counts()
    with pytest.raises(CommandError, match="pass --force"):
        call_command("seed_demo", stdout=StringIO())
    assert row_counts() == counts


def test_seed_demo_will_not_take_over_an_existing_user():
    User.objects.create_user("manager", "someone@example.org", "their own password")
    with pytest.raises(CommandError, match="'manager' exists outside the demo"):
        seed()
    assert User.objects.get(username="manager").check_password("their own password")


def test_verify_audit_after_seeding_reports_every_event():
    seed()
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue() == f"audit chain intact: {AuditEvent.objects.count()} events\n"
