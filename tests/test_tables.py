"""`{% listing %}` (config/tables.py): the table frame of the portal's lists, or the sentence shown
instead of an empty table; the caption and the sentence are escaped; a malformed tag is refused."""

from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError

SOURCE = ('{% load tables %}{% listing rows caption=caption empty=empty %}<tbody>{% for r in rows %}'
          '<tr><td>{{ r }}</td></tr>{% endfor %}</tbody>{% endlisting %}')


def render(**context) -> str:
    return Template(SOURCE).render(Context(context))


def test_rows_are_framed_with_the_scrolling_wrapper_and_the_caption():
    html = render(rows=["a", "b"], caption="Deliveries <to> this endpoint", empty="none")
    assert html.startswith('<div class="table-scroll">\n<table>\n  <caption class="visually-hidden">')
    assert "Deliveries &lt;to&gt; this endpoint" in html and "<tr><td>a</td></tr><tr><td>b</td></tr>" in html
    assert html.endswith("</table>\n</div>") and "none" not in html


def test_no_rows_shows_the_escaped_sentence_and_no_table():
    assert render(rows=[], caption="c", empty="Nothing <yet>.") == "<p>Nothing &lt;yet&gt;.</p>"
    assert render(rows=[], caption="c", empty="") == ""


def test_the_translated_words_of_the_templates_are_used(settings):
    from django.utils import translation

    with translation.override("ja"):
        html = Template('{% load tables %}{% listing rows caption=_("Invitations sent") '
                        'empty=_("No invitations yet.") %}{% endlisting %}').render(Context({"rows": []}))
    assert html.startswith("<p>") and "No invitations yet." not in html


@pytest.mark.parametrize("tag", ["{% listing %}", "{% listing rows title='x' %}", "{% listing rows caption %}"])
def test_a_malformed_tag_is_refused(tag):
    with pytest.raises(TemplateSyntaxError):
        Template("{% load tables %}" + tag + "{% endlisting %}")
