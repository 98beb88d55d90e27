"""What `registry_refresh` renders: one entry per published programme with everything a registry
page and the open data need, organisation entries, and when the snapshot is refreshed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from badges.awards import award_issue, award_revoke
from endorsement import registry as registry_module
from endorsement import services
from endorsement.models import ApplicationState, Endorsement, IssuanceReport, RegistrySnapshot
from endorsement.registry import refresh_slot_taken, registry_current, registry_refresh
from endorsement.reports import issuance_report_file
from institutions import services as institution_services
from institutions.keys import organisation_did
from institutions.models import MembershipState
from tests.factories import Cast, OrganisationFactory, application_in, awarding_setup, body

pytestmark = pytest.mark.django_db
S = ApplicationState


def latest() -> RegistrySnapshot:
    return RegistrySnapshot.objects.latest()


def entry_of(programme) -> dict:
    return next(e for e in latest().entries if e["id"] == str(programme.public_id))


def test_an_entry_carries_the_programme_organisation_endorsement_links_and_search_text():
    application, cast = application_in(S.PUBLISHED)
    programme, endorsement = application.programme, application.endorsement
    registry_refresh()

    entry = entry_of(programme)
    site = settings.SITE_URL
    assert entry["url"] == site + reverse("registry:programme", args=[programme.public_id])
    assert entry["programme"]["name_ja"] == programme.name_ja
    assert entry["programme"]["learning_outcomes"] == programme.learning_outcomes
    assert entry["programme"]["achievement_type"] == "MicroCredential"
    assert entry["programme"]["alignments"][0]["framework"] == "DigComp"
    assert entry["programme"]["learning_hours"] == "30.0"
    assert entry["organisation"]["did"] == organisation_did(cast.organisation)
    assert entry["organisation"]["url"] == site + reverse("registry:organisation", args=[cast.organisation.slug])
    assert entry["endorsement"]["id"] == str(endorsement.public_id)
    assert entry["endorsement"]["state"] == "active"
    assert entry["endorsement"]["endorser"]["did"] == organisation_did(body())
    assert entry["links"]["achievement"] == site + reverse("achievement-json", args=[programme.public_id])
    assert entry["links"]["endorsementCredential"] == site + reverse("endorsement-credential",
                                                                     args=[endorsement.public_id])
    assert entry["links"]["mark_svg"].endswith(f"/registry/{programme.public_id}/mark.svg")
    assert entry["issuance"] == {"issued_here": 0, "reported_elsewhere": 0, "reports": [], "issued_here_by_month": {}}
    assert "data literacy" in entry["search_text"] and "ビジネスのためのデータリテラシー" in entry["search_text"]


def test_the_snapshot_counts_badges_issued_here_but_not_revoked_ones_and_sums_the_reports():
    programme, _app, _cast, issuer = awarding_setup()
    kept = award_issue(actor=issuer, programme=programme, recipient_email="one@example.org")
    revoked = award_issue(actor=issuer, programme=programme, recipient_email="two@example.org")
    award_revoke(actor=issuer, award=revoked, reason="Issued by mistake.")
    # A report covers a period that has ended, within the endorsement: it began a month ago.
    Endorsement.objects.filter(programme=programme).update(valid_from=timezone.now() - timedelta(days=40))
    start, end = date.today() - timedelta(days=30), date.today() - timedelta(days=1)
    issuance_report_file(actor=issuer, programme=programme, period_start=start, period_end=end,
                         count=40, platform="Other platform", note="Spring cohort")
    issuance_report_file(actor=issuer, programme=programme, period_start=start, period_end=end,
                         count=2, platform="Paper certificates")
    registry_refresh()

    issuance = entry_of(programme)["issuance"]
    assert kept.revoked_at is None
    assert issuance["issued_here"] == 1
    assert issuance["reported_elsewhere"] == 42
    assert [(r["platform"], r["count"], r["note"]) for r in issuance["reports"]] == [
        ("Other platform", 40, "Spring cohort"), ("Paper certificates", 2, "")]


def test_a_renewed_programme_is_one_entry_with_its_earlier_endorsement_beside_it():
    first, cast = application_in(S.PUBLISHED)
    renewal, _ = application_in(S.PUBLISHED, cast, programme=first.programme)
    Endorsement.objects.filter(pk=renewal.endorsement.pk).update(valid_from=first.endorsement.valid_from.replace(
        year=first.endorsement.valid_from.year + 1))
    registry_refresh()

    entries = [e for e in latest().entries if e["id"] == str(first.programme.public_id)]
    assert len(entries) == 1
    assert entries[0]["endorsement"]["id"] == str(renewal.endorsement.public_id)
    assert [e["id"] for e in entries[0]["previous_endorsements"]] == [str(first.endorsement.public_id)]


def test_organisation_entries_list_members_with_their_standing_did_and_programmes_but_not_applicants():
    application, cast = application_in(S.PUBLISHED)
    quiet = OrganisationFactory(slug="quiet-member")
    suspended = OrganisationFactory(slug="suspended-member", membership=MembershipState.SUSPENDED)
    OrganisationFactory(slug="applicant", membership=MembershipState.APPLIED)
    OrganisationFactory(slug="rejected", membership=MembershipState.REJECTED)
    registry_refresh()

    organisations = {o["slug"]: o for o in latest().organisations}
    assert set(organisations) == {cast.organisation.slug, quiet.slug, suspended.slug}
    mine = organisations[cast.organisation.slug]
    assert mine["programmes"] == [str(application.programme.public_id)]
    assert mine["membership"] == "active"
    assert mine["did"] == organisation_did(cast.organisation)
    assert mine["did_document"] == settings.SITE_URL + reverse("organisation-did", args=[cast.organisation.slug])
    assert organisations["suspended-member"]["membership"] == "suspended"
    assert organisations["quiet-member"]["programmes"] == []
    assert "contact_email" not in mine


def test_refreshing_an_unchanged_registry_ten_times_keeps_one_snapshot():
    application_in(S.PUBLISHED)
    digests = {registry_refresh().digest for _ in range(10)}
    assert len(digests) == 1
    assert RegistrySnapshot.objects.count() == 1


def test_only_the_newest_snapshots_are_kept():
    cast = Cast()
    for _ in range(registry_module.KEEP_SNAPSHOTS + 2):
        application_in(S.PUBLISHED, cast)
        registry_refresh()
    assert RegistrySnapshot.objects.count() == registry_module.KEEP_SNAPSHOTS
    assert len(latest().entries) == registry_module.KEEP_SNAPSHOTS + 2


def test_issuing_a_badge_refreshes_the_counts_after_commit_when_tasks_run_in_process(
        django_capture_on_commit_callbacks):
    programme, _app, _cast, issuer = awarding_setup()
    registry_refresh()
    with django_capture_on_commit_callbacks(execute=True):
        award = award_issue(actor=issuer, programme=programme, recipient_email="learner@example.org")
    assert entry_of(programme)["issuance"]["issued_here"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        award_revoke(actor=issuer, award=award, reason="Wrong learner.")
    assert entry_of(programme)["issuance"]["issued_here"] == 0


def test_with_a_broker_one_delayed_refresh_covers_every_change_of_its_window():
    cache.delete(registry_module._PENDING_KEY)
    assert refresh_slot_taken() is True  # the first change schedules the delayed refresh
    assert refresh_slot_taken() is False  # later ones in the window find it pending
    assert refresh_slot_taken() is False
    cache.delete(registry_module._PENDING_KEY)  # the window ended
    assert refresh_slot_taken() is True
    cache.delete(registry_module._PENDING_KEY)
    assert registry_module.REFRESH_DELAY_SECONDS > 1


def test_filing_a_report_refreshes_the_registry_after_commit(django_capture_on_commit_callbacks):
    programme, _app, _cast, issuer = awarding_setup()
    Endorsement.objects.filter(programme=programme).update(valid_from=timezone.now() - timedelta(days=40))
    registry_refresh()
    with django_capture_on_commit_callbacks(execute=True):
        issuance_report_file(actor=issuer, programme=programme, period_start="2020-01-01",
                             period_end=(date.today() - timedelta(days=1)).isoformat(), count=7, platform="Elsewhere")
    assert entry_of(programme)["issuance"]["reported_elsewhere"] == 7
    assert IssuanceReport.objects.count() == 1


def test_a_membership_suspension_refreshes_the_registry_after_commit(django_capture_on_commit_callbacks):
    _application, cast = application_in(S.PUBLISHED)
    registry_refresh()
    with django_capture_on_commit_callbacks(execute=True):
        institution_services.organisation_suspend(actor=cast.manager, organisation=cast.organisation,
                                                  comment="Unpaid fees.")
    organisation = next(o for o in latest().organisations if o["slug"] == cast.organisation.slug)
    assert organisation["membership"] == "suspended"


def test_the_parsed_snapshot_is_held_until_a_newer_one_appears():
    application_in(S.PUBLISHED)
    registry_refresh()
    first = registry_current()
    assert registry_current() is first
    services.endorsement_suspend(actor=Cast().manager, endorsement=Endorsement.objects.get(), comment="Check.")
    registry_refresh()
    second = registry_current()
    assert second is not first
    assert second.items[0].state == "suspended"
