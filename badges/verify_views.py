"""The public /verify page: paste a credential's JSON or upload a baked badge, get the report in
plain words. Works without JavaScript; the form is CSRF-protected like every other form."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from badges.verification import (
    credential_from_image,
    credential_from_json,
    credential_verify,
    max_upload_bytes,
    upload_too_large,
)
from config.errors import InvalidInput


class VerifyForm(forms.Form):
    credential = forms.CharField(
        label=_("The credential's JSON"), required=False, strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "autocomplete": "off",
                                     "autocapitalize": "off", "class": "code"}),
        help_text=_("Paste the whole credential, from the first { to the last }."),
    )
    file = forms.FileField(
        label=_("Or a badge image"), required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/svg+xml,.png,.svg"}),
        help_text=_("A PNG or SVG badge with its credential baked in, up to 5 MB."),
    )
    email = forms.EmailField(
        label=_("Recipient's e-mail address (optional)"), required=False,
        help_text=_("If you give it, the report says whether the badge was awarded to this address. "
                    "It is not stored."),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("file") and (data.get("credential") or "").strip():
            self.add_error("file", _("Give either the JSON or an image, not both."))
        elif not data.get("file") and not (data.get("credential") or "").strip() and not self.errors:
            self.add_error("credential", _("Paste a credential (its JSON) or choose a badge image."))
        return data

    def credential_data(self) -> dict:
        """The credential the valid form holds; `InvalidInput` (by field) if none can be read."""
        upload = self.cleaned_data.get("file")
        if upload:
            if upload.size > max_upload_bytes():
                raise upload_too_large("file")
            return credential_from_image(upload.read())
        return credential_from_json(self.cleaned_data["credential"])


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    report = None
    form = VerifyForm(request.POST, request.FILES) if request.method == "POST" else VerifyForm()
    if request.method == "POST" and form.is_valid():
        try:
            report = credential_verify(form.credential_data(), email=form.cleaned_data.get("email") or "")
        except InvalidInput as error:
            for field, messages in error.field_errors.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
    status = 400 if form.errors else 200
    return render(request, "badges/verify.html", {"form": form, "report": report}, status=status)
