"""Batch validation's rules on their own (`rows_from_json`, `rows_validate`): which rows are refused,
under which key, with which words, and that one bad row refuses the whole batch. Nothing here touches
the database: these are the checks made before anything is written."""

from __future__ import annotations

import pytest

from badges.batches import MAX_ROWS, BatchRow, rows_from_json, rows_validate
from config.errors import InvalidInput

NOT_A_LIST = 'Send a JSON list of recipients (or an object with a "rows" list).'


def refused(call, *args) -> tuple[str, dict]:
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    return caught.value.message, caught.value.field_errors


def whole(count: int) -> str:
    if count == 1:
        return "1 row of the batch has errors: nothing was issued. Correct it and upload the whole batch again."
    return (f"{count} rows of the batch have errors: nothing was issued. Correct them and upload the whole "
            "batch again.")


# --- rows_from_json -----------------------------------------------------------------------------------
def test_a_list_of_objects_gives_one_row_each_with_its_place_and_the_names_used() -> None:
    rows = rows_from_json([{"Email": "a@example.org", " name ": "A"}, {"did": "did:example:b"}])
    assert rows == [
        BatchRow("rows[0]", {"recipient_email": "a@example.org", "recipient_name": "A"},
                 {"recipient_email": "Email", "recipient_name": " name "}, index=0),
        BatchRow("rows[1]", {"recipient_did": "did:example:b"}, {"recipient_did": "did"}, index=1),
    ]


def test_an_object_holding_only_rows_is_read_as_its_list() -> None:
    assert rows_from_json({"rows": [{"email": "a@example.org"}]}) == [
        BatchRow("rows[0]", {"recipient_email": "a@example.org"}, {"recipient_email": "email"}, index=0)]
    assert rows_from_json({"rows": []}) == []


@pytest.mark.parametrize("data", [{"rows": [], "other": 1}, {"email": "a@example.org"}, "text", 5, None,
                                  {"rows": {"email": "a@example.org"}}])
def test_anything_but_a_list_is_refused(data: object) -> None:
    assert refused(rows_from_json, data) == (NOT_A_LIST, {"rows": ["Expected a list."]})


def test_items_that_are_not_objects_are_named_by_their_index() -> None:
    assert refused(rows_from_json, [{"email": "a@example.org"}, "b@example.org", [1]]) == (
        whole(2), {"rows[1]": ["Not an object: each item holds one learner's fields."],
                   "rows[2]": ["Not an object: each item holds one learner's fields."]})


def test_unknown_keys_and_keys_given_twice_are_named() -> None:
    assert refused(rows_from_json, [{"email": "a@example.org", "colour": "blue", 7: "x"}]) == (
        whole(1), {"rows[0].colour": ["Unknown key."], "rows[0].7": ["Unknown key."]})
    assert refused(rows_from_json, [{"email": "a@example.org", "recipient_email": "b@example.org"}]) == (
        whole(1), {"rows[0].recipient_email": ["Given twice."]})


# --- rows_validate ------------------------------------------------------------------------------------
def row(where: str, **values: str) -> BatchRow:
    """A CSV row ("line 3") or a JSON item ("rows[2]") with the fields' own names as its columns."""
    names = {field: field for field in values}
    if where.startswith("line "):
        return BatchRow(where, values, names, line=int(where.removeprefix("line ")))
    return BatchRow(where, values, names, index=int(where.removeprefix("rows[").removesuffix("]")))


def test_good_rows_give_their_recipients_in_order() -> None:
    recipients = rows_validate([row("line 2", recipient_email="a@example.org", recipient_name="A"),
                                row("line 3", recipient_did="did:example:b")])
    assert [(r.email, r.did, r.name) for r in recipients] == [("a@example.org", "", "A"), ("", "did:example:b", "")]


def test_an_empty_batch_is_refused() -> None:
    assert refused(rows_validate, []) == ("The batch has no rows.", {"rows": ["Give at least one recipient."]})


def test_a_batch_of_the_maximum_is_checked_and_one_more_is_refused() -> None:
    many = [row(f"line {i + 2}", recipient_did=f"did:example:{i}") for i in range(MAX_ROWS + 1)]
    assert MAX_ROWS == 10_000
    assert len(rows_validate(many[:-1])) == 10_000
    assert refused(rows_validate, many) == ("A batch holds at most 10000 rows; split it.",
                                            {"rows": ["Too many rows."]})


def test_a_bad_row_is_named_by_its_place_and_the_column_the_uploader_used() -> None:
    rows = [row("line 2", recipient_email="a@example.org"),
            BatchRow("line 3", {"recipient_email": "not an address"}, {"recipient_email": "E-mail"}, line=3),
            row("line 4", recipient_email="c@example.org", evidence_url="ftp://example.org/x")]
    message, errors = refused(rows_validate, rows)
    assert message == whole(2)
    assert set(errors) == {"line 3.E-mail", "line 4.evidence_url"}
    assert errors["line 3.E-mail"] == ["Enter a valid e-mail address (name@example.org)."]


def test_a_row_naming_no_learner_is_refused() -> None:
    assert refused(rows_validate, [row("rows[0]", recipient_name="A")]) == (
        whole(1), {"rows[0].recipient_email": ["Give the learner's e-mail address or DID."]})


def test_the_same_learner_twice_is_refused_naming_the_first_place() -> None:
    rows = [row("line 2", recipient_email="Ann@Example.org"), row("line 3", recipient_did="did:example:b"),
            row("line 4", recipient_email="ann@example.org"), row("line 5", recipient_did="did:example:b"),
            row("line 6", recipient_email="ann@example.org")]
    assert refused(rows_validate, rows) == (whole(3), {
        "line 4.recipient_email": ["The same learner as on line 2."],
        "line 5.recipient_did": ["The same learner as on line 3."],
        "line 6.recipient_email": ["The same learner as on line 2."],
    })


def test_a_learner_named_by_did_and_email_is_the_same_learner_by_did() -> None:
    rows = [row("line 2", recipient_did="did:example:b", recipient_email="x@example.org"),
            BatchRow("line 3", {"recipient_did": "did:example:b", "recipient_email": "y@example.org"},
                     {"recipient_did": "DID", "recipient_email": "mail"}, line=3)]
    assert refused(rows_validate, rows) == (whole(1), {"line 3.DID": ["The same learner as on line 2."]})


def test_the_same_learner_twice_in_json_is_named_by_the_first_item() -> None:
    rows = [row("rows[0]", recipient_did="did:example:b"), row("rows[1]", recipient_did="did:example:b")]
    assert refused(rows_validate, rows) == (
        whole(1), {"rows[1].recipient_did": ["The same learner as in item 1 (rows[0])."]})


def test_rows_with_several_errors_count_once_each() -> None:
    rows = [row("line 2", recipient_email="bad", recipient_name="N" * 1000),
            row("line 3", recipient_email="bad")]
    message, errors = refused(rows_validate, rows)
    assert message == whole(2)
    assert set(errors) == {"line 2.recipient_email", "line 2.recipient_name", "line 3.recipient_email"}


def row_errors(rows: list[BatchRow], encoding: str = "") -> tuple[InvalidInput, list[tuple]]:
    with pytest.raises(InvalidInput) as caught:
        rows_validate(rows, encoding)
    return caught.value, [(e["path"], e["line"], e["index"], e["field"], e["column"], e["messages"])
                          for e in caught.value.details["row_errors"]]


def test_each_problem_is_told_with_its_field_and_the_column_the_uploader_used() -> None:
    rows = [BatchRow("line 2", {"recipient_email": "bad"}, {"recipient_email": "メール"}, line=2),
            BatchRow("line 3", {"recipient_did": "did:example:b"}, {"recipient_did": "DID"}, line=3),
            BatchRow("line 4", {"recipient_did": "did:example:b"}, {"recipient_did": "DID"}, line=4)]
    _error, problems = row_errors(rows)
    assert problems == [
        ("line 2.メール", 2, None, "recipient_email", "メール", ["Enter a valid e-mail address (name@example.org)."]),
        ("line 4.DID", 4, None, "recipient_did", "DID", ["The same learner as on line 3."]),
    ]


def test_a_field_without_a_recorded_column_is_named_by_the_field() -> None:
    rows = [BatchRow("rows[0]", {"recipient_email": "a@example.org"}, {}, index=0),
            BatchRow("rows[1]", {"recipient_email": "a@example.org"}, {}, index=1)]
    _error, problems = row_errors(rows)
    assert problems == [("rows[1].recipient_email", None, 1, "recipient_email", "recipient_email",
                         ["The same learner as in item 1 (rows[0])."])]


def test_the_files_encoding_is_told_with_the_refusal() -> None:
    rows = [row("line 2", recipient_email="bad")]
    error, _problems = row_errors(rows, "cp932")
    assert error.details["file_encoding"] == "cp932"
    assert error.message.startswith(whole(1)) and error.message != whole(1)
    plain, _problems = row_errors(rows)
    assert "file_encoding" not in plain.details and plain.message == whole(1)


def test_evidence_files_are_refused_without_a_file_upload_naming_the_row_and_the_column() -> None:
    # A JSON body or a plain CSV has no files to name: the row is refused under the column the
    # uploader used, a list or a "|" text alike; a cell naming no file at all is no reference.
    rows = [row("rows[0]", recipient_email="a@example.org", evidence_files=" | "),
            BatchRow("rows[1]", {"recipient_email": "b@example.org", "evidence_files": ["a.pdf"]},
                     {"recipient_email": "email", "evidence_files": "files"}, index=1),
            row("rows[2]", recipient_email="c@example.org", evidence_files="a.pdf|b.png")]
    assert refused(rows_validate, rows) == (whole(2), {
        "rows[1].files": ["Evidence files can be given only with a file upload."],
        "rows[2].evidence_files": ["Evidence files can be given only with a file upload."],
    })
    _error, problems = row_errors(rows[1:2])
    assert problems == [("rows[1].files", None, 1, "evidence_files", "files",
                         ["Evidence files can be given only with a file upload."])]
    assert [r.email for r in rows_validate(rows[:1])] == ["a@example.org"]
