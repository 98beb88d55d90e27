"""Issue 9, "credentials that read the same everywhere": the level as an OB 3.0 alignment, the field
in fieldOfStudy, the programme's other language as a related edition, and the learner's name as the
organisation chose. Every document is checked against the 1EdTech schema in ../shared and verified."""

from __future__ import annotations

import copy
import hashlib
import json
import unicodedata
from typing import Any

import jsonschema
import pytest
from django.conf import settings
from django.test import Client

from badges import credentials as vc
from badges.awards import award_issue
from badges.levels import known_framework, level_alignment, level_code
from badges.models import Programme
from institutions.keys import did_document
from institutions.models import Organisation, RecipientNames, Role
from institutions.services import organisation_recipient_names_set
from tests.factories import awarding_setup, body, staff

pytestmark = pytest.mark.django_db
EQF_URL = "https://europass.europa.eu/en/description-eight-eqf-levels"
JSON = {"HTTP_ACCEPT": "application/ld+json"}


@pytest.fixture(scope="module")
def schema(shared_dir) -> dict[str, Any]:
    return json.loads((shared_dir / "ob3-schemas" / "ob_v3p0_achievementcredential_schema.json").read_text())


def errors(schema: dict[str, Any], document: dict[str, Any], definition: str | None = None) -> list[str]:
    if definition:
        schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    validator = jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def resolver() -> vc.KeyResolver:
    return vc.make_key_resolver([did_document(body()), *(did_document(o) for o in
                                                         Organisation.objects.filter(is_certification_body=False))])


def achievement(award) -> dict[str, Any]:
    return award.credential["credentialSubject"]["achievement"]


# --- the level ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("level", "framework", "code"), [
    ("Level 5", "European Qualifications Framework", "5"),
    ("EQF 5", "EQF", "5"),
    ("eqf level 6", "eqf", "6"),
    ("レベル５", "欧州資格枠組み", "5"),
    ("４", "ＥＱＦ", "4"),
    ("Level 5 or 6", "EQF", "Level 5 or 6"),
    ("Advanced", "Company skills ladder", "Advanced"),
    ("3", "", "3"),
    ("CEFR B1–B2", "CEFR", "B1–B2"),
    ("EQF", "EQF", "EQF"),
])
def test_the_level_code_is_the_number_within_the_framework(level, framework, code):
    assert level_code(level, known_framework(framework)) == code


def test_a_level_of_a_known_framework_is_aligned_to_the_framework_s_page():
    eqf = "European Qualifications Framework"
    assert level_alignment("Level 5", eqf, registry_url="https://x.test/registry/") == {
        "target_name": "EQF level 5", "target_url": EQF_URL, "target_framework": eqf,
        "target_code": "5", "target_type": "ext:QualificationsFrameworkLevel"}
    assert level_alignment("", "European Qualifications Framework", registry_url="https://x.test/registry/") is None


def test_a_cefr_level_keeps_its_letters():
    assert level_alignment("CEFR B1", "CEFR", registry_url="https://x.test/registry/")["target_name"] == "CEFR B1"


def test_a_level_of_another_framework_is_kept_as_written_and_points_at_the_registry_s_level_filter():
    assert level_alignment("Advanced", "Company skills ladder", registry_url="https://x.test/registry/") == {
        "target_name": "Company skills ladder Advanced", "target_url": "https://x.test/registry/?level=Advanced",
        "target_framework": "Company skills ladder", "target_code": "Advanced",
        "target_type": "ext:QualificationsFrameworkLevel"}
    assert level_alignment("上級", "", registry_url="https://x.test/registry/")["target_url"] \
        == "https://x.test/registry/?level=%E4%B8%8A%E7%B4%9A"


def test_the_badge_and_the_achievement_document_carry_the_level_as_an_alignment_and_the_field_of_study(schema):
    programme, *_rest, issuer = awarding_setup(field_of_study="Data science")
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    embedded = achievement(award)
    level = {"type": ["Alignment"], "targetName": "EQF level 5", "targetUrl": EQF_URL, "targetCode": "5",
             "targetFramework": "European Qualifications Framework", "targetType": "ext:QualificationsFrameworkLevel"}
    assert embedded["alignment"] == [
        level, {"type": ["Alignment"], "targetName": "Data literacy", "targetUrl": "https://example.org/frameworks/dl",
                "targetFramework": "DigComp"}]
    assert embedded["fieldOfStudy"] == "Data science"
    assert errors(schema, award.credential) == []
    assert vc.verify(award.credential, resolver()).verified
    served = Client().get(f"/achievements/{programme.public_id}", **JSON).json()
    assert served["alignment"][0] == level and served["fieldOfStudy"] == "Data science"
    assert errors(schema, {k: v for k, v in served.items() if k != "@context"}, "Achievement") == []


def test_no_field_of_study_is_written_when_the_programme_names_none():
    programme, *_rest, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    assert "fieldOfStudy" not in achievement(award)  # no longer the framework's name


# --- two languages --------------------------------------------------------------------------------
def test_a_bilingual_programme_s_badge_names_its_english_edition_and_that_edition_is_served(schema):
    programme, *_rest, issuer = awarding_setup(language="ja", name_en="Data literacy", name_ja="データリテラシー",
                                               learning_hours="12.5")
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    main_id = f"{settings.SITE_URL}/achievements/{programme.public_id}"
    embedded = achievement(award)
    assert (embedded["name"], embedded["inLanguage"]) == ("データリテラシー", "ja")
    assert embedded["related"] == [{"id": main_id + "/en", "type": ["Related"], "inLanguage": "en"}]
    assert "学修成果：\n- Clean a tabular data set" in embedded["description"]
    assert embedded["description"].endswith("想定学修時間：12.5時間")
    assert errors(schema, award.credential) == []
    assert vc.verify(award.credential, resolver()).verified

    response = Client().get(f"/achievements/{programme.public_id}/en", **JSON)
    assert response.status_code == 200 and "Accept" in response["Vary"].split(", ")
    english = response.json()
    assert english["id"] == main_id + "/en"
    assert (english["name"], english["inLanguage"]) == ("Data literacy", "en")
    assert english["description"].startswith("Reading, cleaning and presenting business data.\n\nLearning outcomes:")
    assert english["description"].endswith("Notional learning hours: 12.5")
    assert english["related"] == [{"id": main_id, "type": ["Related"], "inLanguage": "ja"}]
    assert english["alignment"] == embedded["alignment"] and english["endorsement"] == embedded["endorsement"]
    assert Client().get(f"/achievements/{programme.public_id}/en.json").json() == english
    assert errors(schema, {k: v for k, v in english.items() if k != "@context"}, "Achievement") == []
    assert Client().get(f"/achievements/{programme.public_id}/ja", **JSON).status_code == 404  # the main one
    # A browser is sent to the programme's page, as for the Achievement itself.
    assert Client().get(f"/achievements/{programme.public_id}/en").status_code == 302


def test_a_programme_in_one_language_has_no_related_edition():
    programme, *_rest, issuer = awarding_setup(language="en", name_ja="", description_ja="")
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    assert "related" not in achievement(award) and achievement(award)["inLanguage"] == "en"
    assert Client().get(f"/achievements/{programme.public_id}/ja", **JSON).status_code == 404
    assert Client().get(f"/achievements/{programme.public_id}/en", **JSON).status_code == 404


def test_the_1edtech_schema_forbids_language_value_objects_in_name_and_description(schema):
    """Why the other language is a related edition: the schema types name and description as strings."""
    programme, *_rest, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    bilingual = copy.deepcopy(award.credential)
    names = [{"@value": programme.name_ja, "@language": "ja"}, {"@value": programme.name_en, "@language": "en"}]
    bilingual["name"] = names
    bilingual["credentialSubject"]["achievement"]["name"] = names
    found = errors(schema, bilingual)
    assert any(e.startswith("['name']") and "is not of type 'string'" in e for e in found), found
    assert any(e.startswith("['credentialSubject', 'achievement', 'name']") for e in found), found


# --- the learner's name ---------------------------------------------------------------------------
def independent_name_hash(name: str, salt: str) -> str:
    folded = " ".join(unicodedata.normalize("NFKC", name).split())
    return "sha256$" + hashlib.sha256((folded + salt).encode("utf-8")).hexdigest()


def names_in(credential: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in credential["credentialSubject"].get("identifier", []) if i["identityType"] == "name"]


def test_by_default_the_name_is_written_in_the_badge():
    programme, _, cast, issuer = awarding_setup()
    assert Organisation.objects.get(pk=cast.organisation.pk).recipient_names == "include"
    award = award_issue(actor=issuer, programme=programme, recipient_email="h@example.org",
                        recipient_name="山田 花子")
    assert names_in(award.credential) == [{"type": "IdentityObject", "identityHash": "山田 花子",
                                           "identityType": "name", "hashed": False}]


def test_a_hashed_name_is_salted_sha256_checkable_but_not_readable(schema):
    programme, _, cast, issuer = awarding_setup()
    organisation_recipient_names_set(actor=staff(cast.organisation, Role.OWNER), organisation=programme.organisation,
                                     value=RecipientNames.HASH)
    award = award_issue(actor=issuer, programme=programme, recipient_email="h@example.org",
                        recipient_name="山田　花子")  # an ideographic space, as Japanese keyboards type it
    (name,) = names_in(award.credential)
    assert set(name) == {"type", "identityHash", "identityType", "hashed", "salt"}
    assert name["hashed"] is True and len(name["salt"]) == 32
    assert name["identityHash"] == independent_name_hash("山田 花子", name["salt"])
    assert "山田" not in json.dumps(award.credential, ensure_ascii=False)
    assert vc.name_identity_matches(name, "山田 花子") and vc.name_identity_matches(name, " 山田  花子 ")
    assert not vc.name_identity_matches(name, "山田 太郎")
    assert errors(schema, award.credential) == []
    assert vc.verify(award.credential, resolver()).verified
    other = award_issue(actor=issuer, programme=programme, recipient_email="h@example.org", recipient_name="山田 花子")
    assert names_in(other.credential)[0]["identityHash"] != name["identityHash"]  # a salt per badge
    assert award.recipient_name == "山田　花子"  # the organisation's own record keeps it


def test_an_omitted_name_is_nowhere_in_the_badge_nor_on_its_public_page():
    programme, _, cast, issuer = awarding_setup()
    organisation_recipient_names_set(actor=staff(cast.organisation, Role.OWNER), organisation=programme.organisation,
                                     value=RecipientNames.OMIT)
    award = award_issue(actor=issuer, programme=programme, recipient_email="h@example.org",
                        recipient_name="Hanako Yamada")
    assert names_in(award.credential) == []
    assert [i["identityType"] for i in award.credential["credentialSubject"]["identifier"]] == ["emailAddress"]
    assert "Hanako" not in json.dumps(award.credential)
    page = Client().get(f"/badges/{award.public_id}", HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Hanako" not in page.content.decode()


def test_the_owners_choose_through_the_api_and_the_choice_is_audited():
    from rest_framework.test import APIClient

    from endorsement.models import AuditEvent

    programme, _, cast, issuer = awarding_setup()
    owner = staff(cast.organisation, Role.OWNER)
    client = APIClient()
    client.force_authenticate(owner)
    assert client.get("/api/v1/organisation/recipient-names").json() == {"recipient_names": "include"}
    response = client.put("/api/v1/organisation/recipient-names", {"recipient_names": "hash"}, format="json")
    assert (response.status_code, response.json()) == (200, {"recipient_names": "hash"})
    event = AuditEvent.objects.get(action="organisation.recipient_names_set")
    assert (event.actor, event.data) == (owner, {"recipient_names": "hash", "before": "include"})
    award = award_issue(actor=issuer, programme=Programme.objects.get(pk=programme.pk),
                        recipient_email="h@example.org", recipient_name="Hanako Yamada")
    assert names_in(award.credential)[0]["hashed"] is True


def test_a_value_not_offered_and_a_non_owner_are_refused_and_nothing_changes():
    from rest_framework.test import APIClient

    from endorsement.models import AuditEvent

    _, _, cast, issuer = awarding_setup()
    client = APIClient()
    client.force_authenticate(staff(cast.organisation, Role.OWNER))
    response = client.put("/api/v1/organisation/recipient-names", {"recipient_names": "initials"}, format="json")
    assert response.status_code == 400 and "recipient_names" in json.dumps(response.json())
    client.force_authenticate(issuer)
    response = client.put("/api/v1/organisation/recipient-names", {"recipient_names": "omit"}, format="json")
    assert response.status_code == 403 and "owners" in json.dumps(response.json())
    assert Organisation.objects.get(pk=cast.organisation.pk).recipient_names == "include"
    assert not AuditEvent.objects.filter(action="organisation.recipient_names_set").exists()
