"""Small forms of the application pages (the transitions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class TransitionForm(forms.Form):
    """What a transition takes from the page. Submit takes nothing; resubmit an optional comment;
    withdraw an optional comment and the confirmation given on its own page."""

    comment = forms.CharField(label=_("Comment (optional)"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(
        label=_("Yes, withdraw this application. It cannot be reopened; a new application would be needed."),
        required=False,
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action
        if action == "withdraw":
            self.fields["confirm"].required = True
            self.fields["confirm"].error_messages["required"] = _("Tick the box to confirm the withdrawal.")
            self.fields["comment"].label = _("Why do you withdraw it? (optional)")
        else:
            del self.fields["confirm"]
        if action == "submit":
            del self.fields["comment"]

    def service_kwargs(self) -> dict[str, Any]:
        return {"comment": self.cleaned_data["comment"]} if "comment" in self.fields else {}
