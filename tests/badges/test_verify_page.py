"""The /verify page and the learner's badge page: the verification report in plain words (who issued
the credential to whom, what it certifies, when, who endorses it), then every check with a tick or a
cross and its reason."""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from badges import credentials as vc
from badges.awards import award_issue, award_revoke
from badges.models import Award
from badges.status import status_list_publish
from endorsement import services
from endorsement.models import AuditEvent
from tests.badges.test_verification import signed_badge
from tests.factories import awarding_setup, png_bytes

pytestmark = pytest.mark.django_db

VERIFY_PATHS = ["/verify/", "/verify"]


class _ElementText(HTMLParser):
    """The text of the element with a given id (tags dropped, whitespace collapsed)."""

    VOID = {"br", "img", "input", "meta", "link", "hr"}

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id, self.depth, self.parts, self.found = element_id, 0, [], False

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def text_of(page: str, element_id: str) -> str:
    parser = _ElementText(element_id)
    parser.feed(page)
    assert parser.found, f"no element with id {element_id!r} on the page"
    return re.sub(r"\s+", " ", unescape(" ".join(parser.parts))).strip()


def day(moment) -> str:
    return date_format(timezone.localtime(moment), "DATE_FORMAT")


def issued_badge(**award_fields):
    """A badge issued by the award service, with the status lists published as the on-commit tasks do."""
    programme, app, cast, issuer = awarding_setup()
    fields = {"recipient_email": "hanako@example.org", "recipient_name": "Hanako Yamada", **award_fields}
    award = award_issue(actor=issuer, programme=programme, **fields)
    status_list_publish(award.status.status_list_id)
    status_list_publish(app.endorsement.status.status_list_id)
    return award, app, cast, issuer


def post_json(credential, path: str = "/verify/", email: str = ""):
    return Client().post(path, {"credential": json.dumps(credential), "email": email})


def post_png(award: Award, email: str = ""):
    png = Client().get(f"/badges/{award.public_id}.png").content
    return Client().post("/verify", {"file": SimpleUploadedFile("badge.png", png, "image/png"), "email": email})


def check_items(page: str) -> dict[str, str]:
    return {m: text_of(page, f"check-{m}") for m in re.findall(r'<li id="check-([^"]+)"', page)}


# --- the page and its addresses --------------------------------------------------------------------
@pytest.mark.parametrize("path", VERIFY_PATHS)
def test_the_verify_page_answers_with_and_without_the_slash(path):
    response = Client().get(path)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in page and 'name="credential"' in page and 'name="file"' in page
    assert re.search(r'<script src="/static/js/verify\.js" defer></script>', page)
    assert 'data-drop-hint="You can also drop a PNG or SVG badge image' in page


@pytest.mark.parametrize("path", VERIFY_PATHS)
def test_a_credential_posted_to_either_address_gets_the_report(path):
    award, *_ = issued_badge()
    response = post_json(award.credential, path)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Verified" in text_of(page, "report-title") and "Not verified" not in text_of(page, "report-title")


# --- the plain words ---------------------------------------------------------------------------------
def test_the_report_says_who_issued_the_badge_to_whom_what_it_certifies_when_and_who_endorses_it():
    award, app, _, _ = issued_badge()
    credential = award.credential
    achievement = credential["credentialSubject"]["achievement"]
    response = post_png(award)
    page = response.content.decode()
    assert response.status_code == 200
    assert text_of(page, "words-issuer") == (
        f"Who issued it: Issued by {award.organisation.name} (DID {credential['issuer']['id']}). "
        "The signature shows that this issuer signed it and that nothing was changed since.")
    assert text_of(page, "words-recipient").startswith("To whom: Awarded to Hanako Yamada.")
    certifies = text_of(page, "words-achievement")
    # The name sits in a <span lang> when it is not in the visitor's language: no spaces in the words.
    assert certifies.replace("“ ", "“").replace(" ”", "”").startswith(
        f"What it certifies: The achievement “{achievement['name']}”.")
    assert award.programme.description_ja in certifies
    assert text_of(page, "words-criteria").startswith(f"Earned by: {award.programme.criteria_narrative}")
    assert text_of(page, "words-when") == f"When: Valid from {day(award.valid_from)} with no end date."
    endorsements = text_of(page, "words-endorsements")
    endorsement = app.endorsement
    assert endorsements.startswith(
        f"Endorsed by: Micro-credential Certification Body ({achievement['endorsement'][0]['issuer']['id']}) , "
        f"endorsing from {day(endorsement.valid_from)} until {day(endorsement.valid_until)}. "
        "Still active in this registry.")
    checks = check_items(page)
    assert len(checks) == 13 and all(text.startswith("✓ Passed") for text in checks.values()), checks
    assert "13 of 13 checks passed." in re.sub(r"\s+", " ", page)


def test_an_email_typed_by_the_visitor_is_said_to_match_the_recipients():
    award, *_ = issued_badge()
    page = post_png(award, email=" Hanako@Example.org ").content.decode()
    recipient = text_of(page, "words-recipient")
    assert "The e-mail address you typed matches the recipient's." in recipient
    assert check_items(page)["identity"].startswith("✓ Passed Recipient's e-mail address")


def test_an_email_typed_by_the_visitor_that_is_not_the_recipients_is_said_not_to_match():
    award, *_ = issued_badge()
    page = post_png(award, email="someone.else@example.org").content.decode()
    recipient = text_of(page, "words-recipient")
    assert "The e-mail address you typed does not match the recipient's." in recipient
    identity = check_items(page)["identity"]
    assert identity.startswith("✗ Not confirmed Recipient's e-mail address (for information; does not decide")
    assert "The e-mail address you gave is not the one the credential names." in identity
    # The banner itself says it: genuine and in force, but not this person's.
    assert text_of(page, "report-title") == "⚠ Genuine, but not issued to the address you gave"
    summary = text_of(page, "verdict-summary")
    assert "genuine and in force, but it was not issued to someone.else@example.org" in summary
    assert "every check" not in summary.lower()
    assert 'class="notice warning" id="verdict"' in page


def test_a_badge_without_a_name_is_awarded_to_a_holder_identified_by_a_hashed_email():
    award, *_ = issued_badge(recipient_name="")
    page = post_json(award.credential).content.decode()
    assert text_of(page, "words-recipient") == (
        "To whom: Awarded to a holder identified by a hashed e-mail address. "
        "To check that it was awarded to someone, give their e-mail address on the verification page.")
    assert "hanako@example.org" not in page


def test_a_badge_for_a_did_names_the_did():
    award, *_ = issued_badge(recipient_email="", recipient_name="", recipient_did="did:example:learner-7")
    page = post_json(award.credential).content.decode()
    assert text_of(page, "words-recipient") == "To whom: Awarded to the holder of the DID did:example:learner-7."


def test_an_email_typed_for_a_badge_naming_no_email_says_there_is_nothing_to_compare():
    award, *_ = issued_badge(recipient_email="", recipient_name="", recipient_did="did:example:learner-7")
    page = post_json(award.credential, email="someone@example.org").content.decode()
    assert "The credential names no e-mail address to compare the one you typed with." in text_of(
        page, "words-recipient")


def test_a_tampered_badge_shows_the_failed_checks_with_a_cross_and_the_reason():
    award, *_ = issued_badge()
    tampered = copy.deepcopy(award.credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Doctorate in everything"
    page = post_json(tampered).content.decode()
    assert text_of(page, "report-title") == "✗ Not genuine: its content cannot be trusted"
    assert "nothing it says can be taken as fact" in text_of(page, "verdict-summary")
    proof = check_items(page)["proof"]
    assert proof.startswith("✗ Failed Signature valid")
    assert "The signature does not match the credential: it was altered after signing" in proof
    # What it claims is shown only as claims: no sentence states it, nor its endorsement's standing, as fact.
    claims = text_of(page, "words-claims")
    assert claims.startswith("Its content cannot be trusted")
    assert "Achievement it names Doctorate in everything" in claims
    assert 'id="words-achievement"' not in page and 'id="words-endorsements"' not in page
    assert "The achievement “Doctorate in everything”" not in page
    assert "Still active in this registry" not in page and "The signature shows" not in page
    assert re.search(r"12 of 13 checks passed\.", re.sub(r"\s+", " ", page))


def test_a_revoked_badge_shows_the_status_and_registry_checks_failing_with_the_reason():
    award, _, _, issuer = issued_badge()
    award_revoke(actor=issuer, award=award, reason="Awarded to the wrong learner.")
    status_list_publish(award.status.status_list_id)
    page = post_json(award.credential).content.decode()
    checks = check_items(page)
    assert checks["status"].startswith("✗ Failed Revocation and suspension status") and "REVOKED" in checks["status"]
    assert checks["registry"].startswith("✗ Failed") and "Awarded to the wrong learner." in checks["registry"]


def test_a_suspended_endorsement_is_said_not_to_be_active_in_this_registry():
    award, app, cast, _ = issued_badge()
    services.endorsement_suspend(actor=cast.manager, endorsement=app.endorsement, comment="Under investigation")
    status_list_publish(app.endorsement.status.status_list_id)
    page = post_json(award.credential).content.decode()
    endorsements = text_of(page, "words-endorsements")
    assert "Not active in this registry:" in endorsements and "is suspended" in endorsements
    assert "Still active" not in endorsements
    assert check_items(page)["endorsement-1-registry"].startswith("✗ Failed")
    assert "Not verified" in text_of(page, "report-title")


def test_an_endorsement_by_another_body_is_said_to_be_beyond_what_this_registry_can_tell():
    endorser = vc.generate_private_key()
    target = "https://example.org/achievements/knots"
    endorsement = vc.sign(vc.build_endorsement_credential(
        id=f"urn:uuid:{uuid.uuid4()}",
        issuer=vc.build_profile(id=vc.did_key_from_public_key(endorser.public_key()), name="Other Body"),
        endorsed_id=target, name="Endorsement of knot tying", valid_from=timezone.now() - timedelta(days=1),
        valid_until=timezone.now() + timedelta(days=300),
    ), endorser, vc.did_key_verification_method(endorser.public_key()))
    page = post_json(signed_badge(endorsements=[endorsement], target_id=target)).content.decode()
    endorsements = text_of(page, "words-endorsements")
    assert endorsements.startswith("Endorsed by: Other Body (did:key:")
    assert "Endorsed by another body, so this registry cannot say whether it still holds." in endorsements
    assert text_of(page, "words-issuer").startswith("Who issued it: Issued by Example Academy (DID did:key:")
    assert "Verified" in text_of(page, "report-title")


def test_a_badge_with_no_endorsement_says_so():
    page = post_json(signed_badge()).content.decode()
    assert text_of(page, "words-endorsements") == "Endorsed by: The badge carries no endorsement."


def test_an_endorsement_credential_is_described_by_what_it_endorses():
    _, app, _, _ = issued_badge()
    credential = app.endorsement.credential
    page = post_json(credential).content.decode()
    assert f"An endorsement of {credential['credentialSubject']['id']}." in text_of(page, "words-achievement")
    assert 'id="words-recipient"' not in page and 'id="words-endorsements"' not in page


def test_a_json_object_that_is_no_credential_gets_sentences_saying_what_is_missing():
    page = post_json({"hello": "world"}).content.decode()
    assert text_of(page, "report-title") == "✗ Not genuine: its content cannot be trusted"
    claims = text_of(page, "words-claims")
    assert "Issuer it names —" in claims and "Dates it states — – —" in claims
    assert check_items(page)["shape"].startswith("✗ Failed An Open Badges 3.0 credential")


def test_markup_and_script_urls_in_a_credential_are_shown_as_text_never_run():
    badge = signed_badge()
    badge["issuer"]["name"] = '<script>alert("x")</script>'
    badge["credentialSubject"]["achievement"]["criteria"] = {"id": "javascript:alert(1)", "narrative": "<b>bold</b>"}
    page = post_json(badge).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<b>bold</b>" not in page
    assert 'href="javascript:' not in page


# --- refused input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", VERIFY_PATHS)
def test_input_holding_no_credential_is_refused_with_a_field_message_and_no_report(path):
    issued_badge()
    before = (Award.objects.count(), AuditEvent.objects.count())
    response = Client().post(path, {"file": SimpleUploadedFile("plain.png", png_bytes(), "image/png")})
    page = response.content.decode()
    assert response.status_code == 400
    assert "No credential could be read from this PNG image" in text_of(page, "id_file_error")
    assert 'id="report-title"' not in page and 'id="words-issuer"' not in page
    assert (Award.objects.count(), AuditEvent.objects.count()) == before


def test_malformed_json_is_refused_on_its_field():
    response = Client().post("/verify", {"credential": "{not json"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "This is not valid JSON" in text_of(page, "id_credential_error")
    assert 'id="report-title"' not in page


# --- the learner's badge page ---------------------------------------------------------------------------
def test_the_learners_badge_page_shows_the_same_report_the_image_downloads_and_the_json():
    award, *_ = issued_badge()
    page = Client().get(f"/badges/{award.public_id}").content.decode()
    assert "Verified" in text_of(page, "report-title")
    assert text_of(page, "words-recipient").startswith("To whom: Awarded to Hanako Yamada.")
    assert "Still active in this registry." in text_of(page, "words-endorsements")
    checks = check_items(page)
    assert len(checks) == 13 and all(text.startswith("✓ Passed") for text in checks.values())
    assert f'href="/badges/{award.public_id}.png" download' in page
    assert f'href="/badges/{award.public_id}.json" download' in page
    assert json.dumps(award.credential["id"]) in page


def test_the_learners_page_of_a_revoked_badge_shows_the_report_failing():
    award, _, _, issuer = issued_badge()
    award_revoke(actor=issuer, award=award, reason="Plagiarism found")
    status_list_publish(award.status.status_list_id)
    page = Client().get(f"/badges/{award.public_id}").content.decode()
    assert text_of(page, "report-title") == "✗ Revoked"
    assert text_of(page, "verdict-summary").startswith("The credential is genuine, but its issuer has revoked it")
    assert "Plagiarism found" in check_items(page)["registry"]
