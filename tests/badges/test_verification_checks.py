"""The verification checks one by one (`_Verifier.issuer`, `dates`, `status`, `status_entry`,
`status_list_problem`, `subject`), at a fixed moment, each outcome with its exact words. The status
lists are real signed BitstringStatusListCredentials, served over HTTP by the stand-in; expected
values are literals (dates written out by hand), never read back from the code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from badges import credentials as vc
from badges.verification import _Verifier
from tests.badges.http_stand_in import serve

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ID, LABEL = "dates", "Validity"


def verifier() -> _Verifier:
    return _Verifier(NOW)


def outcome(check) -> tuple:
    return check.id, check.label, check.passed, check.message, check.code


# --- issuer -------------------------------------------------------------------------------------------
KEY = vc.generate_private_key()
DID = vc.did_key_from_public_key(KEY.public_key())
METHOD = vc.did_key_verification_method(KEY.public_key())
SOURCE = "did:key (the key is the identifier itself)"


@pytest.mark.parametrize("issuer", [None, "", {"name": "Example Academy"}, {"id": 7}, 42])
def test_a_credential_that_names_no_issuer_fails_as_missing(issuer: object) -> None:
    credential = {} if issuer is None else {"issuer": issuer}
    assert outcome(verifier().issuer("issuer", "Issuer", credential)) == (
        "issuer", "Issuer", False, "The credential names no issuer.", "missing")


def test_an_issuer_that_cannot_be_resolved_fails_with_the_resolvers_words() -> None:
    assert outcome(verifier().issuer("issuer", "Issuer", {"issuer": "did:example:abc"})) == (
        "issuer", "Issuer", False, "The DID method of did:example:abc is not supported (only did:web and did:key).",
        "unresolved")


def test_a_resolved_issuer_is_named_with_where_it_was_resolved_from() -> None:
    assert outcome(verifier().issuer("issuer", "Issuer", {"issuer": DID})) == (
        "issuer", "Issuer", True, f"{DID}, resolved from {SOURCE}.", "ok")
    named = {"issuer": {"id": DID, "name": "Example Academy"}}
    assert outcome(verifier().issuer("issuer", "Issuer", named)) == (
        "issuer", "Issuer", True, f"Example Academy ({DID}), resolved from {SOURCE}.", "ok")
    for name in ("", 5, None):
        unnamed = {"issuer": {"id": DID, "name": name}}
        assert verifier().issuer("issuer", "Issuer", unnamed).message == f"{DID}, resolved from {SOURCE}."
    long_name = {"issuer": {"id": DID, "name": "N" * 301}}
    assert verifier().issuer("issuer", "Issuer", long_name).message == f"{'N' * 300} ({DID}), resolved from {SOURCE}."


# --- dates --------------------------------------------------------------------------------------------
def dates(credential: dict, issued_at: datetime | None = None) -> tuple:
    check = verifier().dates(ID, LABEL, credential, issued_at)
    assert (check.id, check.label) == (ID, LABEL)
    return check.passed, check.message, check.code


def test_a_credential_valid_now_with_no_end() -> None:
    assert dates({"validFrom": "2026-01-01T00:00:00Z"}) == (
        True, "Valid from 2026-01-01 00:00 UTC with no end date.", "ok")


def test_the_vc_1_issuance_date_is_read_when_there_is_no_valid_from() -> None:
    assert dates({"issuanceDate": "2026-01-01T08:30:00Z"}) == (
        True, "Valid from 2026-01-01 08:30 UTC with no end date.", "ok")
    both = {"validFrom": "2026-02-01T00:00:00Z", "issuanceDate": "not a date"}
    assert dates(both) == (True, "Valid from 2026-02-01 00:00 UTC with no end date.", "ok")


def test_a_credential_with_no_start_date_is_invalid() -> None:
    assert dates({}) == (False, "It states no validFrom date.", "invalid")
    assert dates({"validUntil": "2026-01-01T00:00:00Z"}) == (
        False, "It states no validFrom date. It expired on 2026-01-01 00:00 UTC.", "invalid")


@pytest.mark.parametrize("value", ["yesterday", 20260101, None, ""])
def test_a_start_that_is_not_a_date_is_invalid(value: object) -> None:
    assert dates({"validFrom": value}) == (False, "Its validFrom is not a date and time.", "invalid")
    assert dates({"issuanceDate": value}) == (False, "Its issuanceDate is not a date and time.", "invalid")


def test_a_start_within_five_minutes_ahead_is_allowed_for_clock_skew_and_later_is_not_yet_valid() -> None:
    assert dates({"validFrom": "2026-06-01T12:05:00Z"}) == (
        True, "Valid from 2026-06-01 12:05 UTC with no end date.", "ok")
    assert dates({"validFrom": "2026-06-01T12:05:01Z"}) == (
        False, "It is not valid until 2026-06-01 12:05 UTC.", "not-yet-valid")
    assert dates({"validFrom": "2026-07-01T00:00:00+09:00"}) == (
        False, "It is not valid until 2026-06-30 15:00 UTC.", "not-yet-valid")


def test_an_end_in_the_future_is_stated_and_an_end_now_or_before_has_expired() -> None:
    assert dates({"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-06-01T12:00:01Z"}) == (
        True, "Valid from 2026-01-01 00:00 UTC until 2026-06-01 12:00 UTC.", "ok")
    assert dates({"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-06-01T12:00:00Z"}) == (
        False, "It expired on 2026-06-01 12:00 UTC.", "expired")
    assert dates({"validFrom": "2026-01-01T00:00:00Z", "expirationDate": "2026-03-01T00:00:00Z"}) == (
        False, "It expired on 2026-03-01 00:00 UTC.", "expired")
    both = {"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z", "expirationDate": "x"}
    assert dates(both) == (True, "Valid from 2026-01-01 00:00 UTC until 2027-01-01 00:00 UTC.", "ok")


@pytest.mark.parametrize("key", ["validUntil", "expirationDate"])
def test_an_end_that_is_not_a_date_is_invalid(key: str) -> None:
    assert dates({"validFrom": "2026-01-01T00:00:00Z", key: "soon"}) == (
        False, f"Its {key} is not a date and time.", "invalid")


def test_every_problem_is_stated_and_the_first_outcome_kept_unless_a_date_is_invalid() -> None:
    assert dates({"validFrom": "2026-07-01T00:00:00Z", "validUntil": "2026-05-01T00:00:00Z"}) == (
        False, "It is not valid until 2026-07-01 00:00 UTC. It expired on 2026-05-01 00:00 UTC.", "not-yet-valid")
    assert dates({"validFrom": "bad", "validUntil": "2026-05-01T00:00:00Z"}) == (
        False, "Its validFrom is not a date and time. It expired on 2026-05-01 00:00 UTC.", "invalid")
    assert dates({"validFrom": "2026-07-01T00:00:00Z", "validUntil": "bad"}) == (
        False, "It is not valid until 2026-07-01 00:00 UTC. Its validUntil is not a date and time.", "invalid")


def test_an_endorsement_that_ended_after_the_badge_was_issued_still_endorses_it() -> None:
    ended = {"validFrom": "2025-01-01T00:00:00Z", "validUntil": "2026-01-01T00:00:00Z"}
    assert dates(ended, issued_at=datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) == (
        True, "Valid from 2025-01-01 00:00 UTC until 2026-01-01 00:00 UTC; it has ended since, but the badge was "
              "issued on 2025-12-31 23:59 UTC, while it was valid: endorsed when issued.", "endorsed-when-issued")
    # Ending at this very moment counts as ended.
    ending_now = {"validFrom": "2025-01-01T00:00:00Z", "validUntil": "2026-06-01T12:00:00Z"}
    assert dates(ending_now, issued_at=datetime(2026, 5, 1, tzinfo=UTC)) == (
        True, "Valid from 2025-01-01 00:00 UTC until 2026-06-01 12:00 UTC; it has ended since, but the badge was "
              "issued on 2026-05-01 00:00 UTC, while it was valid: endorsed when issued.", "endorsed-when-issued")
    # Issued at the very moment it ended, or after: not endorsed when issued.
    assert dates(ended, issued_at=datetime(2026, 1, 1, tzinfo=UTC)) == (
        False, "It expired on 2026-01-01 00:00 UTC.", "expired")
    # Still in force: the ordinary words, whenever the badge was issued.
    running = {"validFrom": "2025-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z"}
    assert dates(running, issued_at=datetime(2025, 6, 1, tzinfo=UTC)) == (
        True, "Valid from 2025-01-01 00:00 UTC until 2027-01-01 00:00 UTC.", "ok")


# --- status lists, served and signed for real -----------------------------------------------------
def status_list_document(url: str, *, purpose: str = "revocation", set_bits: tuple[int, ...] = (),
                         issuer: str = DID, key=KEY, method: str = METHOD, signed: bool = True, **changes) -> dict:
    bits = vc.StatusList()
    for index in set_bits:
        bits.set(index)
    unsigned = vc.build_status_list_credential(id=url, issuer=issuer, purpose=purpose, encoded_list=bits.encode(),
                                               valid_from=datetime(2026, 1, 1, tzinfo=UTC))
    unsigned.update(changes)
    return vc.sign(unsigned, key, method, "2026-01-01T00:00:00Z") if signed else unsigned


def entry(url: str, index: object = 7, purpose: str = "revocation", **changes) -> dict:
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
            "statusListIndex": index if isinstance(index, int) else str(index), "statusListCredential": url,
            **changes}


@pytest.fixture(scope="module")
def lists():
    """Lists on the stand-in: /revocation and /suspension (bit 7 set on each), /bad-list (unreadable bits)."""
    with serve() as server:
        for purpose in ("revocation", "suspension"):
            url = server.url(f"/{purpose}")
            server.route(f"/{purpose}", status_list_document(url, purpose=purpose, set_bits=(7,)))
        unreadable = {"id": "urn:x:list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                      "encodedList": "not-multibase"}
        server.route("/bad-list", status_list_document(server.url("/bad-list"), credentialSubject=unreadable))
        yield server


def test_an_entry_whose_bit_is_set_on_a_revocation_list_is_revoked(lists) -> None:
    url = lists.url("/revocation")
    assert verifier().status_entry(entry(url, 7), DID) == (
        "revoked", f"The issuer has REVOKED this credential (status list {url}, entry 7).")
    assert verifier().status_entry(entry(url, "7"), DID)[0] == "revoked"


def test_an_entry_whose_bit_is_set_on_a_suspension_list_is_suspended(lists) -> None:
    url = lists.url("/suspension")
    assert verifier().status_entry(entry(url, 7, "suspension"), DID) == (
        "suspended", f"The issuer has SUSPENDED this credential (status list {url}, entry 7).")


def test_an_entry_whose_bit_is_clear_is_not_revoked_or_not_suspended(lists) -> None:
    revocation, suspension = lists.url("/revocation"), lists.url("/suspension")
    assert verifier().status_entry(entry(revocation, 6), DID) == (
        "not-revoked", f"Not revoked, according to the issuer's signed status list ({revocation}).")
    assert verifier().status_entry(entry(suspension, 8, "suspension"), DID) == (
        "not-revoked", f"Not suspended, according to the issuer's signed status list ({suspension}).")


@pytest.mark.parametrize("value", ["a string", 3, None, ["list"]])
def test_an_entry_that_is_not_an_object_is_unknown(value: object) -> None:
    assert verifier().status_entry(value, DID) == ("unknown", "A credentialStatus entry is not a JSON object.")


def test_an_entry_of_another_type_is_unknown_and_named() -> None:
    url = "http://127.0.0.1:9/x"
    assert verifier().status_entry(entry(url, type="StatusList2021Entry"), DID) == (
        "unknown", "The status type StatusList2021Entry is not supported.")
    assert verifier().status_entry(entry(url, type=["A", "B"]), DID) == (
        "unknown", "The status type A, B is not supported.")
    assert verifier().status_entry({k: v for k, v in entry(url).items() if k != "type"}, DID) == (
        "unknown", "The status type ? is not supported.")


def test_an_entry_listing_its_type_among_others_is_read(lists) -> None:
    url = lists.url("/revocation")
    assert verifier().status_entry(entry(url, 7, type=["Other", "BitstringStatusListEntry"]), DID)[0] == "revoked"


def test_an_entry_for_another_purpose_does_not_bear_on_validity() -> None:
    url = "http://127.0.0.1:9/x"
    assert verifier().status_entry(entry(url, purpose="message"), DID) == (
        "not-revoked", "A status entry for the purpose “message” does not bear on validity; not assessed.")
    assert verifier().status_entry(entry(url, purpose="p" * 41), DID) == (
        "not-revoked", f"A status entry for the purpose “{'p' * 40}” does not bear on validity; not assessed.")
    assert verifier().status_entry(entry(url, purpose=5), DID) == (
        "not-revoked", "A status entry for the purpose “” does not bear on validity; not assessed.")


def test_an_entry_of_more_than_one_bit_is_unknown(lists) -> None:
    url = lists.url("/revocation")
    for size in (2, "2", 0, "01"):
        assert verifier().status_entry(entry(url, statusSize=size), DID) == (
            "unknown", "Status entries of more than one bit are not supported.")
    for size in (1, "1"):
        assert verifier().status_entry(entry(url, 7, statusSize=size), DID)[0] == "revoked"


@pytest.mark.parametrize("index", ["-1", "1.5", "", "seven", None, True, 7.0, [7]])
def test_an_index_that_is_not_a_whole_number_is_unknown(lists, index: object) -> None:
    document = entry(lists.url("/revocation"))
    document["statusListIndex"] = index
    assert verifier().status_entry(document, DID) == (
        "unknown", "The status entry's statusListIndex is not a whole number.")


@pytest.mark.parametrize("url", [None, "", 42])
def test_an_entry_naming_no_list_is_unknown(url: object) -> None:
    document = entry("http://127.0.0.1:9/x")
    document["statusListCredential"] = url
    assert verifier().status_entry(document, DID) == ("unknown", "The status entry names no status list.")


def test_a_list_that_cannot_be_fetched_is_unknown_with_the_fetchers_words(lists) -> None:
    url = lists.url("/missing")
    outcome_, words = verifier().status_entry(entry(url), DID)
    assert outcome_ == "unknown"
    assert words.startswith(f"The status list {url} could not be fetched: ") and "404" in words


def test_a_list_of_another_issuer_is_unknown(lists) -> None:
    url = lists.url("/revocation")
    other = vc.did_key_from_public_key(vc.generate_private_key().public_key())
    assert verifier().status_entry(entry(url), other) == (
        "unknown", f"The status list {url} is issued by {DID}, not by the credential's issuer {other}.")


def test_a_list_whose_bits_cannot_be_read_is_unknown_with_the_reason(lists) -> None:
    url = lists.url("/bad-list")
    assert verifier().status_entry(entry(url), DID) == (
        "unknown", f"The status list {url} cannot be read: encodedList must be a multibase base64url string "
                   "starting with 'u'")
    revocation = lists.url("/revocation")
    assert verifier().status_entry(entry(revocation, 131072), DID) == (
        "unknown", f"The status list {revocation} cannot be read: status list index 131072 out of range 0..131071")


def test_the_last_entry_of_the_list_is_read(lists) -> None:
    url = lists.url("/revocation")
    assert verifier().status_entry(entry(url, 131071), DID)[0] == "not-revoked"


# --- status_list_problem: when a fetched list is not to be trusted ---------------------------------
URL = "https://lists.example/1"


def problem(document: dict, url: str = URL, issuer: str | None = DID, purpose: str = "revocation") -> str | None:
    return verifier().status_list_problem(document, url, issuer, purpose)


def test_a_good_list_has_no_problem() -> None:
    assert problem(status_list_document(URL)) is None
    assert problem(status_list_document(URL, purpose="suspension"), purpose="suspension") is None


def test_a_document_that_is_not_a_status_list_credential() -> None:
    assert problem(status_list_document(URL, type=["VerifiableCredential"], signed=False)) == (
        f"{URL} is not a BitstringStatusListCredential.")
    assert problem({"id": URL}) == f"{URL} is not a BitstringStatusListCredential."
    # The type as one string is read as well: the next check (the signature) is then reached.
    as_text = status_list_document(URL, type="BitstringStatusListCredential", signed=False)
    assert problem(as_text) == f"The status list {URL} does not verify: the document has no proof"


def test_a_list_that_names_another_id() -> None:
    assert problem(status_list_document("https://lists.example/2")) == (
        f"The status list fetched from {URL} names another id.")


def test_a_list_of_another_issuer() -> None:
    other_key = vc.generate_private_key()
    other = vc.did_key_from_public_key(other_key.public_key())
    document = status_list_document(URL, issuer=other, key=other_key,
                                    method=vc.did_key_verification_method(other_key.public_key()))
    assert problem(document) == f"The status list {URL} is issued by {other}, not by the credential's issuer {DID}."
    assert problem(document, issuer=None) == (
        f"The status list {URL} is issued by {other}, not by the credential's issuer None.")


def test_a_list_that_does_not_verify() -> None:
    assert problem(status_list_document(URL, signed=False)) == (
        f"The status list {URL} does not verify: the document has no proof")
    tampered = status_list_document(URL)
    bits = vc.StatusList()
    bits.set(3)  # revoking entry 3 after the list was signed
    tampered["credentialSubject"]["encodedList"] = bits.encode()
    assert problem(tampered) == (
        f"The status list {URL} does not verify: the signature does not match the document: it was altered or "
        "signed by another key")


def test_a_list_is_verified_once_per_verification_and_its_result_kept() -> None:
    checker = verifier()
    good = status_list_document(URL)
    assert checker.status_list_problem(good, URL, DID, "revocation") is None
    assert checker._list_proofs[URL].verified is True
    # The same URL again within one verification: the kept result answers.
    assert checker.status_list_problem(good, URL, DID, "revocation") is None
    unsigned = {k: v for k, v in good.items() if k != "proof"}
    assert checker.status_list_problem(unsigned, URL, DID, "revocation") is None


def test_a_list_past_its_valid_until_has_expired() -> None:
    at_now = status_list_document(URL, validUntil="2026-06-01T12:00:00Z")
    assert problem(at_now) == f"The status list {URL} expired on 2026-06-01 12:00 UTC."
    later = status_list_document(URL, validUntil="2026-06-01T12:01:00Z")
    assert problem(later) is None


@pytest.mark.parametrize("subject", [
    f"{URL}#list",
    {"id": f"{URL}#list", "type": "BitstringStatusList", "statusPurpose": "revocation"},
])
def test_a_list_without_an_encoded_list(subject: object) -> None:
    assert problem(status_list_document(URL, credentialSubject=subject)) == (
        f"The status list {URL} has no encodedList.")


def test_a_list_for_another_purpose() -> None:
    assert problem(status_list_document(URL), purpose="suspension") == (
        f"The status list {URL} is not a suspension list.")
    encoded = vc.StatusList().encode()
    both = status_list_document(URL, credentialSubject={
        "id": f"{URL}#list", "type": "BitstringStatusList", "statusPurpose": ["revocation", "suspension"],
        "encodedList": encoded})
    assert problem(both, purpose="suspension") is None


# --- status: the check over every entry -----------------------------------------------------------
def status(credential: dict) -> tuple:
    check = verifier().status("status", "Status", credential)
    assert (check.id, check.label) == ("status", "Status")
    return check.passed, check.message, check.code


NO_STATUS = "The credential carries no status entry: its issuer cannot revoke or suspend it."
OTHER_PURPOSE = "A status entry for the purpose “message” does not bear on validity; not assessed."
NOT_OBJECT = "A credentialStatus entry is not a JSON object."


def test_a_credential_without_status_entries_cannot_be_revoked() -> None:
    for value in (None, []):
        credential = {"issuer": DID} if value is None else {"issuer": DID, "credentialStatus": value}
        assert status(credential) == (True, NO_STATUS, "no-status")


def test_entries_that_do_not_bear_on_validity_pass_with_their_words() -> None:
    other = entry("http://127.0.0.1:9/x", purpose="message")
    assert status({"issuer": DID, "credentialStatus": other}) == (True, OTHER_PURPOSE, "not-revoked")
    assert status({"issuer": DID, "credentialStatus": [other, other]}) == (
        True, f"{OTHER_PURPOSE} {OTHER_PURPOSE}", "not-revoked")


def test_ten_entries_are_read_and_more_make_the_status_unknown() -> None:
    other = entry("http://127.0.0.1:9/x", purpose="message")
    assert status({"issuer": DID, "credentialStatus": [other] * 10}) == (
        True, " ".join([OTHER_PURPOSE] * 10), "not-revoked")
    assert status({"issuer": DID, "credentialStatus": [other] * 10 + ["eleventh"]}) == (
        False, "Status unknown: More than ten status entries; the rest were not checked. So whether the issuer has "
               "revoked or suspended it cannot be told.", "unknown")


def test_an_unknown_entry_makes_the_status_unknown_with_every_reason() -> None:
    other = entry("http://127.0.0.1:9/x", purpose="message")
    assert status({"issuer": DID, "credentialStatus": ["first", other, 2]}) == (
        False, f"Status unknown: {NOT_OBJECT} {NOT_OBJECT} So whether the issuer has revoked or suspended it cannot "
               "be told.", "unknown")


def test_revoked_wins_over_suspended_and_suspended_over_unknown(lists) -> None:
    revocation, suspension = lists.url("/revocation"), lists.url("/suspension")
    revoked = f"The issuer has REVOKED this credential (status list {revocation}, entry 7)."
    suspended = f"The issuer has SUSPENDED this credential (status list {suspension}, entry 7)."
    both = [entry(suspension, 7, "suspension"), "unknown", entry(revocation, 7)]
    assert status({"issuer": DID, "credentialStatus": both}) == (False, revoked, "revoked")
    assert status({"issuer": DID, "credentialStatus": both[:2]}) == (False, suspended, "suspended")
    assert status({"issuer": {"id": DID}, "credentialStatus": [both[2], both[2]]}) == (
        False, f"{revoked} {revoked}", "revoked")


def test_entries_checked_against_the_credentials_issuer(lists) -> None:
    revocation = lists.url("/revocation")
    other = vc.did_key_from_public_key(vc.generate_private_key().public_key())
    assert status({"issuer": other, "credentialStatus": entry(revocation, 7)}) == (
        False, f"Status unknown: The status list {revocation} is issued by {DID}, not by the credential's issuer "
               f"{other}. So whether the issuer has revoked or suspended it cannot be told.", "unknown")
    assert status({"issuer": DID, "credentialStatus": entry(revocation, 6)}) == (
        True, f"Not revoked, according to the issuer's signed status list ({revocation}).", "not-revoked")


# --- subject: what an embedded endorsement endorses -----------------------------------------------
TARGET = "https://example.org/achievements/knots"


def subject(endorsement: dict, target: str | None) -> tuple:
    check = verifier().subject("endorsement-1-subject", "Endorsed", endorsement, target)
    assert (check.id, check.label) == ("endorsement-1-subject", "Endorsed")
    return check.passed, check.message, check.code


def test_an_endorsement_of_the_achievement_it_is_embedded_in() -> None:
    assert subject({"credentialSubject": {"id": TARGET}}, TARGET) == (True, f"It endorses {TARGET}.", "ok")
    several = {"credentialSubject": [{"id": "https://example.org/other"}, {"id": TARGET}]}
    assert subject(several, TARGET) == (True, f"It endorses {TARGET}.", "ok")


def test_an_endorsement_of_something_else_was_copied_from_elsewhere() -> None:
    assert subject({"credentialSubject": {"id": "https://example.org/other"}}, TARGET) == (
        False, f"It endorses https://example.org/other, not {TARGET}: it was copied from elsewhere.", "other")
    several = {"credentialSubject": [{"id": "https://a.example/1"}, {"id": 5}, "not an object"]}
    assert subject(several, TARGET) == (
        False, f"It endorses https://a.example/1, 5, not {TARGET}: it was copied from elsewhere.", "other")
    assert subject({}, TARGET) == (False, f"It endorses ?, not {TARGET}: it was copied from elsewhere.", "other")


def test_an_endorsement_with_no_target_endorses_nothing_here() -> None:
    assert subject({"credentialSubject": {"id": TARGET}}, None) == (
        False, f"It endorses {TARGET}, not ?: it was copied from elsewhere.", "other")
    assert subject({"credentialSubject": {}}, "") == (
        False, "It endorses None, not ?: it was copied from elsewhere.", "other")
