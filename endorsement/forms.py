"""Small forms of the application pages (the transitions) and the registry's search and filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from badges.models import CredentialPattern
from endorsement.models import EndorsementState


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


class RegistryFilterForm(forms.Form):
    """Search and filters of the public registry; the choices come from the snapshot's entries."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        help_text=_("Words in the name, description, learning outcomes or organisation."))
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    level = forms.ChoiceField(label=_("Level"), required=False)
    pattern = forms.ChoiceField(label=_("Credential pattern"), required=False,
                                choices=[("", _("Any")), *CredentialPattern.choices])
    standing = forms.ChoiceField(label=_("Standing"), required=False,
                                 choices=[("", _("Any")), *EndorsementState.choices])

    def __init__(self, *args: Any, organisations: list[tuple[str, str]], levels: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        self.fields["organisation"].choices = [("", _("Any")), *organisations]
        self.fields["level"].choices = [("", _("Any")), *[(level, level) for level in levels]]

    def criteria(self) -> dict[str, str]:
        """The valid filters (an unknown choice is dropped rather than failing the page)."""
        self.is_valid()
        return {name: value for name, value in getattr(self, "cleaned_data", {}).items() if value}
