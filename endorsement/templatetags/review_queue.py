"""`{% my_reviews_to_do as reviews %}`: the signed-in reviewer's open reviews, for the admin index."""

from __future__ import annotations

from typing import Any

from django import template

from endorsement.admin.application_page import reviews_to_do
from institutions.permissions import is_body_staff

register = template.Library()


@register.simple_tag(takes_context=True)
def my_reviews_to_do(context: dict[str, Any]) -> list[Any] | None:
    """The reviews, or None for anyone who is not a reviewer or manager of the body."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not is_body_staff(user):
        return None
    return reviews_to_do(user)
