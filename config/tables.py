"""`{% listing %}`: a table of rows, or a sentence when there are none — the frame every list page
of the portal repeated (the scrolling wrapper, the table, its caption for screen readers, and the
paragraph shown instead of an empty table).

    {% load tables %}
    {% listing deliveries caption=_("Deliveries to this endpoint") empty=_("Nothing sent yet.") %}
      <thead>…</thead>
      <tbody>{% for delivery in deliveries %}…{% endfor %}</tbody>
    {% endlisting %}

The caption and the sentence are escaped; the content between the tags is rendered as written.
Without `empty`, nothing at all is shown when there are no rows.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.utils.html import format_html

register = template.Library()


class ListingNode(template.Node):
    def __init__(self, rows: FilterExpression, options: dict[str, FilterExpression], nodelist: NodeList) -> None:
        self.rows, self.options, self.nodelist = rows, options, nodelist

    def render(self, context: Any) -> str:
        option = {name: expression.resolve(context) for name, expression in self.options.items()}
        if not self.rows.resolve(context):
            empty = option.get("empty")
            return format_html("<p>{}</p>", empty) if empty else ""
        return format_html('<div class="table-scroll">\n<table>\n  <caption class="visually-hidden">{}</caption>\n'
                           "{}</table>\n</div>", option.get("caption", ""), self.nodelist.render(context))


@register.tag
def listing(parser: Parser, token: Token) -> ListingNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% listing rows caption=… empty=… %} needs the rows.")
    rows = parser.compile_filter(bits[1])
    options = template.base.token_kwargs(bits[2:], parser)
    if len(options) != len(bits) - 2 or set(options) - {"caption", "empty"}:
        raise template.TemplateSyntaxError("{% listing %} takes only caption=… and empty=….")
    nodelist = parser.parse(("endlisting",))
    parser.delete_first_token()
    return ListingNode(rows, options, nodelist)
