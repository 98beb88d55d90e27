"""In a real browser, the admin in Japanese never breaks a line inside a word: in a squeezed table,
新規申請 stays on one line and a programme's name breaks only between its phrases (CSS keep-all and
the <wbr> of the phrases filter, docs/i18n.md)."""

from __future__ import annotations

import pytest

from endorsement.models import ApplicationState
from tests.factories import PASSWORD, application_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# How many line boxes each text node of the element's cells spans (a text node between two <wbr>
# is one phrase): 1 everywhere means no line was broken inside a phrase.
LINES_PER_TEXT_NODE = """(cell) => {
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  const out = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    out.push([node.textContent, tops.size]);
  }
  return out;
}"""


def test_japanese_words_and_names_are_not_broken_in_a_squeezed_changelist(browser):
    application, cast = application_in(ApplicationState.IN_REVIEW)
    application.programme.name_ja = "認知症ケアのコミュニケーションと在宅ケアにおける感染予防"
    application.programme.save(update_fields=["name_ja"])
    page = browser.page
    # The language cookie, as the switcher sets it (the context's locale sends Accept-Language: en-GB).
    page.context.add_cookies([{"name": "django_language", "value": "ja", "url": browser.url("/")}])
    page.set_viewport_size({"width": 760, "height": 900})  # the table must squeeze its columns

    browser.visit("/admin/login/", "login-ja")
    page.fill("#id_username", cast.manager.username)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    browser.visit("/admin/endorsement/application/", "changelist-ja-760")

    row = page.locator("#result_list tbody tr").first
    name_cell = row.locator("td.field-programme_name, th.field-programme_name")
    kind_cell = row.locator("td.field-kind")
    name_lines = name_cell.evaluate(LINES_PER_TEXT_NODE)
    kind_lines = kind_cell.evaluate(LINES_PER_TEXT_NODE)

    assert kind_lines == [["新規申請", 1]]
    # The name is split into phrases (several text nodes) and wraps over several lines, each phrase whole.
    assert "".join(text for text, _ in name_lines) == "認知症ケアのコミュニケーションと在宅ケアにおける感染予防"
    assert len(name_lines) > 2
    assert all(lines == 1 for _text, lines in name_lines), name_lines
    # ... and it did wrap: its text covers more than one line (else the test would prove nothing).
    lines_of_the_name = name_cell.evaluate(
        "(cell) => { const r = document.createRange(); r.selectNodeContents(cell);"
        " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }")
    assert lines_of_the_name > 1
    browser.shot("squeezed-names-whole")
