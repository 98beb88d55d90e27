"""Batch CSV files as Japanese Excel writes them (Shift_JIS/cp932, UTF-8 with or without a BOM,
UTF-16 "Unicode text"), Japanese column names, the templates, and row errors said in words."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from badges.batches import batch_rows_data, rows_from_csv
from badges.models import Award, AwardBatch, StatusAllocation
from config.errors import InvalidInput
from tests.factories import PASSWORD, api_client, awarding_setup, login_request

pytestmark = pytest.mark.django_db

# "メールアドレス,氏名,証拠URL" and two rows (髙橋 花子 — 髙 is an IBM extension of cp932 —
# and 佐藤 一郎① — ① an NEC one), as Excel's plain "CSV" writes them on a Japanese Windows.
CP932_FILE = (b"\x83\x81\x81[\x83\x8b\x83A\x83h\x83\x8c\x83X,\x8e\x81\x96\xbc,\x8f\xd8\x8b\x92URL\r\n"
              b"hanako@example.org,\xee\xe0\x8b\xb4 \x89\xd4\x8eq,https://lms.example.org/work/1\r\n"
              b"ichiro@example.org,\x8d\xb2\x93\xa1 \x88\xea\x98Y\x87@,\r\n")


def upload(client, programme, content, **headers):
    return client.post(f"/api/v1/programmes/{programme.public_id}/award-batches",
                       {"file": SimpleUploadedFile("batch.csv", content)}, format="multipart", **headers)


def portal(user, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def nothing_written(allocations_before):
    return (AwardBatch.objects.count() == 0 and Award.objects.count() == 0
            and StatusAllocation.objects.count() == allocations_before)


# --- encodings ------------------------------------------------------------------------------------
def test_a_shift_jis_file_from_japanese_excel_is_read_and_the_batch_says_so():
    programme, _, _, issuer = awarding_setup()
    response = upload(api_client(issuer), programme, CP932_FILE)
    assert response.status_code == 201, response.json()
    assert response.json()["file_encoding"] == "cp932"
    stored = batch_rows_data(AwardBatch.objects.get().pk).values()
    assert [(r["recipient_email"], r["recipient_name"], r["evidence_url"]) for r in stored] == [
        ("hanako@example.org", "髙橋 花子", "https://lms.example.org/work/1"),
        ("ichiro@example.org", "佐藤 一郎①", ""),
    ]


def test_the_portal_says_how_the_file_was_read_on_the_batch_page():
    programme, _, _, issuer = awarding_setup()
    client = portal(issuer, "ja")
    response = client.post(f"/portal/programmes/{programme.public_id}/award-batches/new/",
                           {"file": SimpleUploadedFile("batch.csv", CP932_FILE)}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "。ファイルはShift_JIS（cp932）として読み込みました。" in page  # the message: no space between sentences
    assert "ファイルの文字コード" in page and "Shift_JIS（cp932）" in page  # the batch's facts
    english = portal(issuer, "en").get(f"/portal/batches/{AwardBatch.objects.get().public_id}/").content.decode()
    assert "File read as" in english and "Shift_JIS (cp932)" in english


@pytest.mark.parametrize(("content", "encoding"), [
    ("email,name\r\nhanako@example.org,山田 花子\r\n".encode("utf-8-sig"), "utf-8-sig"),  # Excel's "CSV UTF-8"
    ("email,name\nhanako@example.org,山田 花子\n".encode(), "utf-8"),
    # Excel's "Unicode text": UTF-16 little-endian with a BOM, tab-separated.
    (b"\xff\xfe" + "メールアドレス\t氏名\r\nhanako@example.org\t山田 花子\r\n".encode("utf-16-le"), "utf-16"),
])
def test_utf8_with_or_without_bom_and_utf16_are_read(content, encoding):
    programme, _, _, issuer = awarding_setup()
    response = upload(api_client(issuer), programme, content)
    assert response.status_code == 201, response.json()
    assert response.json()["file_encoding"] == encoding
    (row,) = batch_rows_data(AwardBatch.objects.get().pk).values()
    assert (row["recipient_email"], row["recipient_name"]) == ("hanako@example.org", "山田 花子")


def test_rows_sent_as_json_have_no_file_encoding():
    programme, _, _, issuer = awarding_setup()
    response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches",
                                       [{"email": "hanako@example.org"}], format="json")
    assert response.status_code == 201 and response.json()["file_encoding"] == ""


@pytest.mark.parametrize("content", [
    b"email,name\r\njose@example.org,Jos\xe9\r\n",  # Latin-1 "José": 0xE9 starts no Shift_JIS pair with \r
    b"email,name\r\nzoe@example.org,Zo\xeb \xff\r\n",  # Latin-1 "Zoë ÿ"
    b"\xef\xbb\xbfemail,name\r\nhanako@example.org,\x8e\x81\x96\xbc\r\n",  # a UTF-8 BOM, then Shift_JIS
])
def test_an_undecodable_file_is_refused_clearly_and_nothing_is_created(content):
    programme, _, _, issuer = awarding_setup()
    before = StatusAllocation.objects.count()
    response = upload(api_client(issuer), programme, content)
    assert response.status_code == 400
    body = response.json()
    assert "line 2" in body["detail"] and "file" in body["errors"]
    assert "neither UTF-8 nor Shift_JIS" in body["detail"] or "byte-order mark but is not" in body["detail"]
    assert nothing_written(before)


def test_an_undecodable_file_in_the_portal_is_a_form_error_in_japanese_and_nothing_is_created():
    programme, _, _, issuer = awarding_setup()
    before = StatusAllocation.objects.count()
    response = portal(issuer, "ja").post(f"/portal/programmes/{programme.public_id}/award-batches/new/",
                                         {"file": SimpleUploadedFile("batch.csv", b"email\r\nJos\xe9\r\n")})
    assert response.status_code == 400
    page = response.content.decode()
    assert "2行目付近（11バイト目）がUTF-8でもShift_JIS（cp932）でもありません" in page
    assert nothing_written(before)


# --- Japanese and mixed column names --------------------------------------------------------------
def test_japanese_english_and_full_width_column_names_may_be_mixed():
    content = ("ＥＭＡＩＬ,氏名,証拠 URL,Evidence Narrative\n"
               "hanako@example.org,山田 花子,https://lms.example.org/work/1,課題3件に合格\n").encode("cp932")
    (row,) = rows_from_csv(content)
    assert row.values == {"recipient_email": "hanako@example.org", "recipient_name": "山田 花子",
                          "evidence_url": "https://lms.example.org/work/1", "evidence_narrative": "課題3件に合格"}
    assert row.names["recipient_name"] == "氏名" and row.where == "line 2"


@pytest.mark.parametrize(("header", "field"), [
    ("メールアドレス", "recipient_email"), ("DID", "recipient_did"), ("氏名", "recipient_name"),
    ("エビデンスURL", "evidence_url"), ("証拠URL", "evidence_url"), ("エビデンスの説明", "evidence_narrative"),
    ("証拠の説明", "evidence_narrative"),
])
def test_every_column_has_a_japanese_name(header, field):
    content = f"メールアドレス,{header}\nhanako@example.org,x\n" if field != "recipient_email" else \
        f"{header}\nhanako@example.org\n"
    if field == "recipient_did":
        content = f"{header}\ndid:example:123\n"
    (row,) = rows_from_csv(content.encode("utf-8"))
    assert field in row.values


def test_a_header_without_an_email_or_did_column_is_refused_at_line_1():
    with pytest.raises(InvalidInput) as error:
        rows_from_csv("氏名\n山田 花子\n".encode("cp932"))
    assert list(error.value.field_errors) == ["line 1"]
    assert "neither an e-mail" in error.value.field_errors["line 1"][0]
    assert "The file was read as Shift_JIS (cp932)." in error.value.message


def test_an_unknown_column_names_the_columns_in_both_languages():
    with pytest.raises(InvalidInput) as error:
        rows_from_csv("メールアドレス,発行日\nhanako@example.org,2026-12-01\n".encode())
    (message,) = error.value.field_errors["line 1.発行日"]
    assert "email (メールアドレス)" in message and "evidence_url (エビデンスURL)" in message
    (problem,) = error.value.details["row_errors"]
    assert problem["where"] == "Line 1, column “発行日”"


# --- templates ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "header"), [
    ("ja", "メールアドレス,DID,氏名,エビデンスURL,エビデンスの説明,エビデンスファイル\r\n"),
    ("en", "email,did,name,evidence_url,evidence_narrative,evidence_files\r\n"),
])
def test_the_templates_are_utf8_with_a_bom_and_upload_as_they_are_once_filled_in(language, header):
    programme, _, _, issuer = awarding_setup()
    client = portal(issuer)
    page = client.get(f"/portal/programmes/{programme.public_id}/award-batches/new/").content.decode()
    assert f"/portal/award-batches/template-{language}.csv" in page
    response = client.get(f"/portal/award-batches/template-{language}.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="award-batch-{language}.csv"'
    assert response.content == b"\xef\xbb\xbf" + header.encode("utf-8")
    filled = response.content + "hanako@example.org,,山田 花子,https://lms.example.org/work/1,合格,\r\n".encode()
    assert upload(api_client(issuer), programme, filled).status_code == 201
    (row,) = batch_rows_data(AwardBatch.objects.get().pk).values()
    assert (row["recipient_name"], row["evidence_narrative"]) == ("山田 花子", "合格")


def test_a_template_in_another_language_is_404_and_the_templates_need_a_login():
    _programme, _, _, issuer = awarding_setup()
    assert portal(issuer).get("/portal/award-batches/template-fr.csv").status_code == 404
    assert Client().get("/portal/award-batches/template-ja.csv").status_code == 302


# --- row errors in words --------------------------------------------------------------------------
BAD_ROWS = "email,name\r\na@example.org,A\r\nnobody,B\r\n"


@pytest.mark.parametrize(("language", "where", "text"), [
    ("en", "Line 3, e-mail", "Line 3, e-mail: Enter a valid e-mail address (name@example.org)."),
    ("ja", "3行目：メールアドレス",
     "3行目：メールアドレス — 有効なメールアドレスを入力してください（name@example.org）。"),
])
def test_api_row_errors_keep_the_path_beside_the_words(language, where, text):
    programme, _, _, issuer = awarding_setup()
    before = StatusAllocation.objects.count()
    response = upload(api_client(issuer), programme, BAD_ROWS.encode(), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == ["line 3.email"]  # the machine-readable key, as before
    (problem,) = body["row_errors"]
    assert {k: problem[k] for k in ("path", "line", "index", "field", "column", "where", "text")} == {
        "path": "line 3.email", "line": 3, "index": None, "field": "recipient_email", "column": "email",
        "where": where, "text": text}
    assert body["file_encoding"] == "utf-8"
    assert nothing_written(before)


def test_json_row_errors_name_the_item_and_a_repeated_learner_names_the_first():
    programme, _, _, issuer = awarding_setup()
    rows = [{"email": "a@example.org"}, {"email": "b@example.org", "evidence_url": "lms.example.org/2"},
            {"email": "A@example.org"}]
    response = api_client(issuer).post(f"/api/v1/programmes/{programme.public_id}/award-batches", rows,
                                       format="json", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 400
    problems = {p["path"]: p for p in response.json()["row_errors"]}
    assert set(problems) == {"rows[1].evidence_url", "rows[2].email"}
    assert problems["rows[1].evidence_url"]["where"] == "2件目（rows[1]）：エビデンスURL"
    assert problems["rows[2].email"]["text"] == "3件目（rows[2]）：メールアドレス — 1件目（rows[0]）と同じ学修者です。"
    assert AwardBatch.objects.count() == 0


def test_a_csv_repeated_learner_names_the_first_line_in_words():
    programme, _, _, issuer = awarding_setup()
    content = "メールアドレス,氏名\r\na@example.org,A\r\nA@example.org,B\r\n".encode("cp932")
    body = upload(api_client(issuer), programme, content).json()
    (problem,) = body["row_errors"]
    assert problem["path"] == "line 3.メールアドレス" and problem["column"] == "メールアドレス"
    assert problem["text"] == "Line 3, e-mail: The same learner as on line 2."
    assert "The file was read as Shift_JIS (cp932)." in body["detail"] and body["file_encoding"] == "cp932"


@pytest.mark.parametrize(("language", "where", "problem"), [
    ("en", "Line 3, e-mail", "Enter a valid e-mail address"),
    ("ja", "3行目：メールアドレス", "有効なメールアドレスを入力してください"),
])
def test_the_portal_lists_row_errors_in_words_and_nothing_is_created(language, where, problem):
    programme, _, _, issuer = awarding_setup()
    before = StatusAllocation.objects.count()
    response = portal(issuer, language).post(f"/portal/programmes/{programme.public_id}/award-batches/new/",
                                             {"file": SimpleUploadedFile("batch.csv", BAD_ROWS.encode())})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'<th scope="row">{where}</th><td>{problem}' in page
    assert "line 3.email" not in page
    assert nothing_written(before)


def test_pasted_rows_have_no_encoding_and_errors_in_words():
    programme, _, _, issuer = awarding_setup()
    response = portal(issuer).post(f"/portal/programmes/{programme.public_id}/award-batches/new/",
                                   {"text": "氏名,メールアドレス\n花子,nobody\n"})
    assert response.status_code == 400
    page = response.content.decode()
    assert '<th scope="row">Line 2, e-mail</th>' in page and "read as" not in page
    assert AwardBatch.objects.count() == 0
