"""The printable certificate (badges.certificate): an A4 PDF in Japanese and English whose text
(pdftotext, poppler-utils) holds the learner's name, the achievement and the verification URL, with
the Japanese font embedded; and a clear 503 page, never a 500, when the library or font is missing."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from django.test import Client

from badges import certificate
from badges.awards import award_issue, award_url
from institutions.models import RecipientNames
from tests.conftest import need
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db


def issued(recipient_names: str = RecipientNames.INCLUDE, **fields):
    programme, _app, cast, issuer = awarding_setup(**fields)
    cast.organisation.recipient_names = recipient_names
    cast.organisation.save(update_fields=["recipient_names"])
    return award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                       recipient_name="山田 花子 Hanako Yamada")


def pdf_text(pdf: bytes, tmp_path) -> str:
    need(shutil.which("pdftotext") is not None, "pdftotext is missing: apt-get install poppler-utils")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def fonts(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout


def renderer_or_skip() -> None:
    try:
        certificate.certificate_renderer()
    except certificate.CertificateUnavailable as error:
        need(False, error.message)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_certificate_names_the_learner_the_achievement_and_the_verification_url(language, tmp_path) -> None:
    renderer_or_skip()
    award = issued(learning_hours=30)
    response = Client().get(f"/badges/{award.public_id}/certificate-{language}.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert text.count("\f") == 1, "the certificate is not one page"
    flat = " ".join(text.split())
    assert "山田 花子 Hanako Yamada" in flat
    assert award_url(award.public_id) in text.replace("\n", "").replace(" ", "")
    name = award.programme.name_ja if language == "ja" else award.programme.name_en
    assert name in flat
    assert ("修了証" in flat) == (language == "ja")
    assert ("Certificate of achievement" in flat) == (language == "en")
    # The Japanese font is embedded (subset), not referred to.
    embedded = fonts(pdf, tmp_path)
    assert re.search(r"\+(Noto-?Sans-?CJK-?JP|IPAex)\S*\s.*\byes yes\b", embedded), embedded


def test_a_hashed_name_is_not_printed(tmp_path) -> None:
    renderer_or_skip()
    award = issued(RecipientNames.HASH)
    response = Client().get(f"/badges/{award.public_id}/certificate-en.pdf")
    text = " ".join(pdf_text(response.content, tmp_path).split())
    assert "Hanako" not in text and "山田" not in text
    assert "does not print learners' names" in text


def test_without_a_japanese_font_the_page_says_so_with_503(monkeypatch) -> None:
    award = issued()
    certificate._renderer_cached.cache_clear()
    monkeypatch.setattr(certificate, "JAPANESE_FONTS", ("No Such Font For Tests",))
    try:
        response = Client().get(f"/badges/{award.public_id}/certificate-ja.pdf")
    finally:
        certificate._renderer_cached.cache_clear()
    assert response.status_code == 503
    page = response.content.decode()
    assert "no Japanese font is installed" in page
    assert f'href="/badges/{award.public_id}"' in page


def test_without_the_library_the_page_says_so_with_503(monkeypatch) -> None:
    award = issued()
    certificate._renderer_cached.cache_clear()

    def missing():
        raise certificate.CertificateUnavailable("Certificates cannot be printed: the PDF library is missing.")

    monkeypatch.setattr(certificate, "_weasyprint", lambda: missing())
    try:
        response = Client().get(f"/badges/{award.public_id}/certificate-en.pdf")
    finally:
        certificate._renderer_cached.cache_clear()
    assert response.status_code == 503
    assert "the PDF library is missing" in response.content.decode()


def test_a_missing_pango_is_reported_as_the_library_missing(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pango(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pango)
    with pytest.raises(certificate.CertificateUnavailable, match="WeasyPrint with Pango"):
        certificate._weasyprint()


def test_an_unknown_language_is_404() -> None:
    award = issued()
    assert Client().get(f"/badges/{award.public_id}/certificate-fr.pdf").status_code == 404


def test_the_certificate_carries_the_bodys_endorsement_mark_in_its_standing(tmp_path) -> None:
    from endorsement.registry import registry_refresh

    renderer_or_skip()
    award = issued()
    registry_refresh()
    text = " ".join(pdf_text(Client().get(f"/badges/{award.public_id}/certificate-en.pdf").content, tmp_path).split())
    assert "ACTIVE" in text and "Endorsed by" in text
