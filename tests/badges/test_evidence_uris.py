"""Evidence URLs are checked and normalised as URIs before they are signed (badges.uris): a link that
other JSON-LD processors would read differently is normalised or refused with a field message, through
the service, the API, the portal form and a batch; never a server error, and nothing written."""

from __future__ import annotations

import pytest
from django.test import Client

from badges import credentials as vc
from badges.awards import award_issue
from badges.models import Award, AwardBatch, StatusAllocation
from badges.uris import UriError, evidence_uri
from config.errors import InvalidInput
from endorsement.models import AuditEvent
from institutions.keys import did_document
from institutions.models import Organisation
from tests.factories import PASSWORD, api_client, awarding_setup, login_request

NORMALISED = [
    ("HTTPS://LMS.Example.ORG/Work/42", "https://lms.example.org/Work/42"),  # scheme and host, not the path
    ("https://ｌｍｓ．ｅｘａｍｐｌｅ．ｏｒｇ/work", "https://lms.example.org/work"),  # full-width host
    ("https://例え.jp/作品?q=値", "https://xn--r8jz45g.jp/%E4%BD%9C%E5%93%81?q=%E5%80%A4"),
    ("https://lms.example.org/a b", "https://lms.example.org/a%20b"),
    ("https://lms.example.org/<x>", "https://lms.example.org/%3Cx%3E"),
    ("https://lms.example.org/{x}", "https://lms.example.org/%7Bx%7D"),
    ("https://lms.example.org/a|b^c`d\"e", "https://lms.example.org/a%7Cb%5Ec%60d%22e"),
    ("https://lms.example.org/x[1]", "https://lms.example.org/x%5B1%5D"),
    ("https://lms.example.org/%e3%81%82", "https://lms.example.org/%E3%81%82"),
    ("https://lms.example.org:443", "https://lms.example.org/"),
    ("http://lms.example.org:8080/w?a=1&b=2#part", "http://lms.example.org:8080/w?a=1&b=2#part"),
]
REFUSED = [
    ("https://e.example.org/%zz", "“%zz” is not a percent-escape"),
    ("https://e.example.org/100%", "“%” is not a percent-escape"),
    ("https://user:password@e.example.org/work", "Remove the user name or password"),
    ("https://user@e.example.org/work", "Remove the user name or password"),
    ("https://e.example.org/a\\b", "cannot hold a backslash"),
    ("https://e.example.org:99999/", "host or port of this link is not valid"),
    ("https://ｅ．ｏｒｇ：８０/", "host or port of this link is not valid"),
    ("https://e_x.example.org/", "is not a valid host name"),
    ("https://-e.example.org/", "is not a valid host name"),
    ("ftp://e.example.org/", "http:// or https://"),
    ("https:/e.example.org", "http:// or https://"),
    ("http://", "names no host"),
]


@pytest.mark.parametrize(("typed", "uri"), NORMALISED)
def test_a_link_is_normalised_as_a_uri(typed, uri):
    assert evidence_uri(typed) == uri
    assert evidence_uri(uri) == uri  # normalising twice changes nothing


@pytest.mark.parametrize(("typed", "words"), REFUSED)
def test_a_link_that_cannot_be_a_uri_is_refused_with_a_message(typed, words):
    with pytest.raises(UriError) as error:
        evidence_uri(typed)
    assert words in error.value.message


def counts() -> tuple[int, int, int, int]:
    return (Award.objects.count(), AwardBatch.objects.count(), StatusAllocation.objects.count(),
            AuditEvent.objects.count())


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "words"), REFUSED)
def test_the_service_the_api_and_the_form_refuse_it_with_400_and_write_nothing(typed, words):
    programme, _, _, issuer = awarding_setup()
    before = counts()
    fields = {"recipient_email": "hanako@example.org", "recipient_name": "Hanako", "evidence_url": typed}
    with pytest.raises(InvalidInput) as error:
        award_issue(actor=issuer, programme=programme, **fields)
    assert any(words in m for m in error.value.field_errors["evidence_url"])
    response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/awards", fields, format="json")
    assert response.status_code == 400
    assert any(words in m for m in response.json()["errors"]["evidence_url"])
    client = Client()
    assert client.login(request=login_request(), username=issuer.username, password=PASSWORD)
    page = client.post(f"/portal/programmes/{programme.public_id}/awards/new/", fields)
    assert page.status_code == 400
    assert words.replace("“", "&ldquo;").replace("”", "&rdquo;") in page.content.decode() or \
        words in page.content.decode()
    assert counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "uri"), NORMALISED[:4] + NORMALISED[6:7])
def test_the_normalised_uri_is_what_is_signed_and_it_verifies(typed, uri):
    programme, _, _, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org", evidence_url=typed)
    assert award.evidence_url == uri
    assert award.credential["evidence"][0]["id"] == uri
    resolver = vc.make_key_resolver([did_document(o) for o in Organisation.objects.all()], allow_did_key=False)
    assert vc.verify(award.credential, resolver).verified


@pytest.mark.django_db
def test_a_batch_row_with_a_bad_link_is_refused_by_its_index_and_nothing_is_issued():
    programme, _, _, issuer = awarding_setup()
    before = counts()
    data = [{"email": "a@example.org", "evidence_url": "https://lms.example.org/ok"},
            {"email": "b@example.org", "evidence_url": "https://e.example.org/%zz"},
            {"email": "c@example.org", "evidence_url": "https://u:p@e.example.org/"}]
    response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches", data, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"rows[1].evidence_url", "rows[2].evidence_url"}
    assert "not a percent-escape" in errors["rows[1].evidence_url"][0]
    assert "user name or password" in errors["rows[2].evidence_url"][0]
    assert counts() == before


@pytest.mark.django_db
def test_a_csv_row_with_a_bad_link_is_refused_by_its_line():
    programme, _, _, issuer = awarding_setup()
    before = counts()
    content = ("email,name,evidence_url\na@example.org,A,https://lms.example.org/ok\n"
               "b@example.org,B,https://e.example.org/a\\b\n")
    client = Client()
    assert client.login(request=login_request(), username=issuer.username, password=PASSWORD)
    response = client.post(f"/portal/programmes/{programme.public_id}/award-batches/new/", {"text": content})
    assert response.status_code == 400
    assert "cannot hold a backslash" in response.content.decode()
    assert counts() == before
