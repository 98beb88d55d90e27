"""Another verifier accepts what we sign: every kind of credential the server issues, built through
the real services, is verified by Digital Bazaar's JavaScript library (verify.mjs) with nothing but
our DID documents, status lists and bundled contexts; a tampered copy of each is rejected."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from badges import credentials as vc
from badges.awards import award_issue, award_revoke
from badges.credentials.proof import hash_data, proof_configuration
from badges.models import Award, Programme, StatusList
from badges.services import programme_create
from badges.status import status_list_publish
from endorsement.models import ApplicationState, Endorsement
from institutions.keys import did_document, issuer_key_rotate, organisation_did, signing_material
from institutions.models import Organisation, RecipientNames, Role
from institutions.services import organisation_recipient_names_set
from tests.badges.http_stand_in import serve
from tests.factories import COMPLETE_PROGRAMME, Cast, application_in, awarding_setup, body, png_bytes, staff

pytestmark = pytest.mark.django_db

SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
       b'<circle cx="32" cy="32" r="30" fill="#1d4e89"/><text x="32" y="38" text-anchor="middle" '
       b'fill="#fff">DL</text></svg>')

# A programme written in Japanese as members write them: full-width punctuation and digits, a name
# with a character outside the BMP (𠮷, U+20BB7) and an emoji. (Its tags avoid the one combination
# Digital Bazaar's canonicalizer orders differently: see the last test.)
JAPANESE_PROGRAMME = {
    **COMPLETE_PROGRAMME,
    "language": "ja",
    "name_en": "",
    "name_ja": "データ分析入門（基礎編）",
    "description_ja": "表形式データの整形・可視化・説明を学ぶ。受講者の声：「わかりやすい！」🎓",
    "criteria_narrative": "課題３件（各６０点以上）に合格し、オンライン試験を受験すること。",
    "responsible_person": "𠮷田 花子",
    "tags": ["データ", "データ（基礎）", "𠮷田ゼミ", "🎓"],
}
# Two tags equal up to a character outside the BMP in one and a BMP character from U+E000 up (here
# the full-width "（", U+FF08) in the other: code point order puts "（" first, UTF-16 code unit order
# puts "𠮷" (surrogates D842 DFB7) first.
DIVERGENT_TAGS = ["データ（基礎）", "データ𠮷"]

Tamper = Callable[[dict[str, Any]], None]


@dataclass
class Case:
    """One signed credential and how to forge it (a change to something the proof covers)."""

    name: str
    credential: dict[str, Any]
    tamper: Tamper

    def tampered(self) -> dict[str, Any]:
        forged = copy.deepcopy(self.credential)
        self.tamper(forged)
        assert forged != self.credential, f"{self.name}: the tamper changed nothing"
        return forged


@dataclass
class Signed:
    """What the server signed, with what a verifier needs: DID documents and status lists."""

    organisation: Organisation
    issuer: Any
    cases: list[Case]
    awards: dict[str, Award]
    endorsement: Endorsement
    did_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    status_lists: dict[str, dict[str, Any]] = field(default_factory=dict)

    def export(self) -> None:
        """Publish every status list (as the on-commit task does) and take the DID documents as served."""
        for status_list in StatusList.objects.all():
            status_list_publish(status_list.pk)
        self.status_lists = {s.credential["id"]: s.credential for s in StatusList.objects.all()}
        self.did_documents = {d["id"]: d for d in (did_document(body()), did_document(self.organisation))}

    def item(self, credential: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        return {"credential": credential, "didDocuments": self.did_documents, "statusLists": self.status_lists,
                **overrides}


# --- tampering ------------------------------------------------------------------------------------
def subject(credential: dict[str, Any]) -> dict[str, Any]:
    return credential["credentialSubject"]


def achievement(credential: dict[str, Any]) -> dict[str, Any]:
    return subject(credential)["achievement"]


def embedded_endorsement(credential: dict[str, Any]) -> dict[str, Any]:
    (endorsement,) = achievement(credential)["endorsement"]
    return endorsement


def other_email(credential: dict[str, Any]) -> None:
    email_identity = next(i for i in subject(credential)["identifier"] if i["identityType"] == "emailAddress")
    email_identity["identityHash"] = vc.hash_identity("someone.else@example.org", email_identity["salt"])


def other_did(credential: dict[str, Any]) -> None:
    subject(credential)["id"] = vc.did_key_from_public_key(vc.generate_private_key().public_key())


def other_evidence(credential: dict[str, Any]) -> None:
    credential["evidence"][0]["id"] = "https://lms.example.org/work/43"


def other_digest(credential: dict[str, Any]) -> None:
    resource = credential["relatedResource"][0]
    resource["digestSRI"] = "sha384-" + base64.b64encode(hashlib.sha384(b"other evidence").digest()).decode()


def other_japanese_name(credential: dict[str, Any]) -> None:
    name = next(i for i in subject(credential)["identifier"] if i["identityType"] == "name")
    name["identityHash"] = name["identityHash"].replace("𠮷", "吉")


def other_hashed_name(credential: dict[str, Any]) -> None:
    name = next(i for i in subject(credential)["identifier"] if i["identityType"] == "name")
    name["identityHash"] = vc.hash_identity("鈴木 太郎", name["salt"])


def other_image(credential: dict[str, Any]) -> None:
    achievement(credential)["image"]["id"] += "?v=2"


def earlier_valid_from(credential: dict[str, Any]) -> None:
    credential["validFrom"] = str(int(credential["validFrom"][:4]) - 1) + credential["validFrom"][4:]


def other_comment(credential: dict[str, Any]) -> None:
    subject(credential)["endorsementComment"] += " Also endorsed for another programme."


def bit_set(credential: dict[str, Any]) -> None:
    bits = vc.StatusList(131072)
    bits.set(7)
    subject(credential)["encodedList"] = bits.encode()


def longer_endorsement(credential: dict[str, Any]) -> None:
    credential["validUntil"] = str(int(credential["validUntil"][:4]) + 5) + credential["validUntil"][4:]


# --- building everything through the real services ------------------------------------------------
def programme_with(cast: Cast, data: dict[str, Any], image: bytes | None = None) -> Programme:
    """A programme created by the organisation's editor and walked to published."""
    programme = programme_create(actor=cast.editor, organisation=cast.organisation, data=dict(data), image=image)
    application_in(ApplicationState.PUBLISHED, cast=cast, programme=programme)
    return programme


@pytest.fixture
def signed(settings, tmp_path) -> Signed:
    settings.MEDIA_ROOT = tmp_path
    return sign_everything()


def sign_everything() -> Signed:
    """Every kind of credential the server signs, through the real services (also used by
    test_second_verifier.py, against a live server)."""
    programme, app, cast, issuer = awarding_setup(field_of_study="Data science")
    png_programme = programme_with(cast, {**COMPLETE_PROGRAMME, "name_en": "Charts (PNG badge)", "validity_months": 24},
                                   png_bytes(8, 8))
    svg_programme = programme_with(cast, {**COMPLETE_PROGRAMME, "name_en": "Charts (SVG badge)"}, SVG)
    japanese_programme = programme_with(cast, JAPANESE_PROGRAMME)

    learner_did = vc.did_key_from_public_key(vc.generate_private_key().public_key())
    awards = {
        "e-mail identity": award_issue(actor=issuer, programme=programme, recipient_email="Hanako.Yamada@Example.org",
                                       recipient_name="Hanako Yamada"),
        "DID recipient": award_issue(actor=issuer, programme=programme, recipient_did=learner_did),
        "evidence": award_issue(
            actor=issuer, programme=programme, recipient_email="ken@example.org",
            evidence_url="https://lms.example.org/work/42?term=2025&lang=en",
            evidence_narrative='Passed:\n\t1. "cleaning" (82%)\n\t2. charts\\plots (75%)\r\nAssessor: T. Suzuki',
        ),
        "Japanese text": award_issue(
            actor=issuer, programme=japanese_programme, recipient_email="yoshida@example.jp",
            recipient_name="𠮷田 太郎", evidence_url="https://lms.example.jp/課題/42",
            evidence_narrative="課題３件に合格（平均８５点）。\n評価者：鈴木 太郎 🎓",
        ),
        "PNG image": award_issue(actor=issuer, programme=png_programme, recipient_email="png@example.org"),
        "archived evidence": award_issue(
            actor=issuer, programme=programme, recipient_email="archive@example.org",
            evidence_files=[SimpleUploadedFile("振り返り.txt", "課題３件の振り返り。\n".encode()),
                            SimpleUploadedFile("chart.png", png_bytes(4, 4))]),
        "SVG image": award_issue(actor=issuer, programme=svg_programme, recipient_email="svg@example.org"),
    }
    # A link fetched before signing: its WARC copy (application/warc) is named in relatedResource.
    with serve() as site:
        awards["archived link"] = award_issue(
            actor=issuer, programme=programme, recipient_email="link@example.org",
            evidence_url=site.route("/portfolio/7", b"<html><body>Assessed portfolio</body></html>",
                                    content_type="text/html"))
    assert [r["mediaType"] for r in awards["archived link"].credential["relatedResource"]] == ["application/warc"]
    organisation_recipient_names_set(actor=staff(cast.organisation, Role.OWNER), organisation=cast.organisation,
                                     value=RecipientNames.HASH)
    programme.refresh_from_db()
    awards["hashed name"] = award_issue(actor=issuer, programme=programme, recipient_email="k@example.org",
                                        recipient_name="鈴木 健")
    assert next(i for i in subject(awards["hashed name"].credential)["identifier"]
                if i["identityType"] == "name")["hashed"] is True
    # Both languages (the English edition in `related`), the level as an alignment, the field of study.
    bilingual = achievement(awards["e-mail identity"].credential)
    assert bilingual["related"][0]["inLanguage"] == "en" and bilingual["fieldOfStudy"] == "Data science"
    assert bilingual["alignment"][0]["targetCode"] == "5"
    # Each case holds what it is named for.
    assert subject(awards["DID recipient"].credential)["id"] == learner_did
    assert [e["id"] for e in awards["evidence"].credential["evidence"]] == ["https://lms.example.org/work/42?term=2025&lang=en"]
    assert achievement(awards["Japanese text"].credential)["name"] == JAPANESE_PROGRAMME["name_ja"]
    assert achievement(awards["PNG image"].credential)["image"]["id"].endswith(".png")
    assert "validUntil" in awards["PNG image"].credential  # a badge that expires (validity_months)
    assert achievement(awards["SVG image"].credential)["image"]["id"].endswith(".svg")
    assert [r["digestSRI"][:7] for r in awards["archived evidence"].credential["relatedResource"]] == ["sha384-"] * 2
    issuer_key_rotate(cast.organisation)
    awards["after a key rotation"] = award_issue(actor=issuer, programme=programme,
                                                 recipient_email="later@example.org")
    assert awards["after a key rotation"].credential["proof"][0]["verificationMethod"].endswith("#key-2")
    issuer_key_rotate(body())  # the body's status lists are then signed with its second key

    endorsement = app.endorsement
    endorsement.refresh_from_db()
    tampering: dict[str, Tamper] = {
        "e-mail identity": other_email, "DID recipient": other_did, "evidence": other_evidence,
        "Japanese text": other_japanese_name, "PNG image": other_image, "SVG image": other_image,
        "archived evidence": other_digest, "archived link": other_digest,
        "after a key rotation": earlier_valid_from, "hashed name": other_hashed_name,
    }
    result = Signed(organisation=cast.organisation, issuer=issuer, awards=awards,
                    endorsement=endorsement, cases=[])
    result.export()
    # The body signed the endorsement with its first key and its status list with its second.
    body_list = next(s for s in result.status_lists.values() if s["issuer"] == organisation_did(body()))
    assert body_list["proof"][0]["verificationMethod"].endswith("#key-2")
    assert endorsement.credential["proof"][0]["verificationMethod"].endswith("#key-1")
    result.cases = [
        Case("EndorsementCredential", endorsement.credential, other_comment),
        *(Case(f"OpenBadgeCredential ({name})", award.credential, tampering[name]) for name, award in awards.items()),
        *(Case(f"BitstringStatusListCredential ({s['credentialSubject']['statusPurpose']}, {s['issuer']})", s,
               bit_set) for s in result.status_lists.values()),
    ]
    return result


def failures(results: list[dict[str, Any]], names: list[str]) -> dict[str, str]:
    return {name: r["error"] for name, r in zip(names, results, strict=True) if not r["verified"]}


# --- tests ----------------------------------------------------------------------------------------
def test_the_independent_verifier_accepts_every_credential_we_sign(js_verify, signed):
    assert len(signed.status_lists) == 2  # the organisation's revocation list, the body's suspension list
    results = js_verify([signed.item(case.credential) for case in signed.cases])
    assert failures(results, [c.name for c in signed.cases]) == {}
    # Each badge's and the endorsement's status entry was checked against its (verified) list: unset.
    statuses = {c.name: r["status"] for c, r in zip(signed.cases, results, strict=True)
                if "credentialStatus" in c.credential}
    assert len(statuses) == 1 + len(signed.awards)
    assert all(len(s) == 1 and s[0]["set"] is False for s in statuses.values()), statuses


def test_it_rejects_a_tampered_copy_of_each_one(js_verify, signed):
    results = js_verify([signed.item(case.tampered()) for case in signed.cases])
    for case, result in zip(signed.cases, results, strict=True):
        assert result["verified"] is False, f"{case.name}: a tampered copy verified"
        assert "Invalid signature" in result["error"], f"{case.name}: {result['error']}"


def test_the_endorsement_embedded_in_each_badge_verifies_on_its_own(js_verify, signed):
    embedded = {name: embedded_endorsement(award.credential) for name, award in signed.awards.items()}
    assert embedded_endorsement(signed.awards["e-mail identity"].credential) == signed.endorsement.credential
    forged = copy.deepcopy(embedded["e-mail identity"])
    longer_endorsement(forged)
    results = js_verify([signed.item(e) for e in embedded.values()] + [signed.item(forged)])
    assert failures(results[:-1], list(embedded)) == {}
    assert results[-1]["verified"] is False and "Invalid signature" in results[-1]["error"]


def test_it_reads_the_set_bit_of_a_revoked_badge_on_the_published_status_list(js_verify, signed):
    revoked, kept = signed.awards["evidence"], signed.awards["e-mail identity"]
    award_revoke(actor=signed.issuer, award=revoked, reason="Evidence found to be plagiarised.")
    signed.export()  # re-publishes the organisation's revocation list with the bit set
    results = js_verify([signed.item(revoked.credential), signed.item(kept.credential)])
    # The library verifies the list and reports the bit; a set bit does not make `verified` false.
    assert [r["verified"] for r in results] == [True, True], results
    assert [[s["set"] for s in r["status"]] for r in results] == [[True], [False]]
    assert results[0]["status"][0]["statusListIndex"] == str(revoked.status.index)
    assert results[0]["status"][0]["statusPurpose"] == "revocation"


def test_a_badge_signed_after_a_key_rotation_is_rejected_with_the_did_document_from_before(js_verify, signed):
    later = signed.awards["after a key rotation"].credential
    before = copy.deepcopy(signed.did_documents)
    member = before[later["issuer"]["id"]]
    member["verificationMethod"] = [m for m in member["verificationMethod"] if not m["id"].endswith("#key-2")]
    member["assertionMethod"] = [m for m in member["assertionMethod"] if not m.endswith("#key-2")]
    (result,) = js_verify([signed.item(later, didDocuments=before)])
    assert result["verified"] is False
    assert f"has no verification method {later['proof'][0]['verificationMethod']}" in result["error"]


def test_the_verifier_resolves_nothing_it_is_not_given(js_verify, signed):
    badge = signed.awards["e-mail identity"].credential
    results = js_verify([
        signed.item(badge, didDocuments={}),
        signed.item(badge, statusLists={}),
        signed.item({**badge, "@context": [*badge["@context"], "https://example.org/unknown-context.json"]}),
    ])
    assert [r["verified"] for r in results] == [False, False, False]
    assert "No DID document given for " + badge["issuer"]["id"] in results[0]["error"]
    assert "Could not load \"BitstringStatusListCredential\"" in results[1]["error"]
    assert "Refusing to load https://example.org/unknown-context.json" in results[2]["error"]


def utf16_order(nquads: str) -> str:
    """The same N-Quads lines sorted by UTF-16 code unit (JavaScript's default sort)."""
    return "".join(sorted(nquads.splitlines(keepends=True), key=lambda line: line.encode("utf-16-be")))


def test_digital_bazaar_orders_quads_by_utf16_code_unit_so_it_rejects_badges_whose_tags_sort_differently(js_verify):
    """A known interop problem, pinned down: RDFC-1.0 sorts the canonical N-Quads in code point
    order, as our library does; rdf-canonize 5.0.0 (under @digitalbazaar/eddsa-rdfc-2022-cryptosuite)
    sorts them with JavaScript's default sort, by UTF-16 code unit (its open issue #52). The orders
    differ only for two lines equal up to a character outside the BMP in one and a character from
    U+E000 up in the other; in our documents that takes two such tags (the only multi-valued text)."""
    programme, _, cast, issuer = awarding_setup(tags=DIVERGENT_TAGS)
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    status_list_publish(award.status.status_list_id)
    credential = award.credential
    did_documents = {d["id"]: d for d in (did_document(body()), did_document(cast.organisation))}
    status_lists = {s.credential["id"]: s.credential for s in StatusList.objects.exclude(credential=None)}
    loader = vc.default_loader()
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    canonical = vc.fast_canonicalize(unsigned, loader)
    assert canonical != utf16_order(canonical)  # the two orders disagree on this document
    assert vc.verify(credential, vc.make_key_resolver(list(did_documents.values())))  # spec order: ours verifies

    # The same document with its signature computed over the UTF-16-ordered N-Quads: what rdf-canonize hashes.
    proof = dict(credential["proof"][0])
    private_key, _ = signing_material(cast.organisation)
    config = vc.fast_canonicalize(proof_configuration(proof, credential["@context"]), loader)
    proof["proofValue"] = "z" + vc.base58btc_encode(private_key.sign(hash_data(config, utf16_order(canonical))))
    in_utf16_order = {**credential, "proof": [proof]}

    item = {"didDocuments": did_documents, "statusLists": status_lists}
    as_signed, as_rdf_canonize_orders = js_verify([{**item, "credential": credential},
                                                   {**item, "credential": in_utf16_order}])
    assert (as_signed["verified"], as_signed["error"]) == (False, "Invalid signature.")
    assert as_rdf_canonize_orders["verified"] is True, as_rdf_canonize_orders["error"]
