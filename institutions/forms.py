"""The public membership application form: the organisation and its first owner's login."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError
from institutions.models import Organisation
from institutions.services import (
    ORGANISATION_FIELDS,
    organisation_apply,
    organisation_logo_checked,
    organisation_logo_size_check,
)
from institutions.slugs import SLUG_MAX, slug_from_name


def _formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"  # a bare "example.org" means https://example.org
    return field.formfield(**kwargs)


class MembershipApplicationForm(forms.Form):
    """Validates the application; `apply()` hands it to `organisation_apply`."""

    username = forms.CharField(
        label=_("Username for your login"), max_length=150,
        help_text=_("Letters, digits and @ . + - _ only. You will log in with it once the body approves."),
    )
    email = forms.EmailField(label=_("Your e-mail address"))
    password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    OWNER_FIELDS = ["username", "email", "password1", "password2"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Labels, lengths and choices of the organisation come from the model, in one place.
        organisation_fields = fields_for_model(
            Organisation, fields=ORGANISATION_FIELDS, formfield_callback=_formfield
        )
        organisation_fields["description"].help_text = _("What your organisation does and teaches.")
        names = {k: organisation_fields.pop(k) for k in ("name", "name_ja")}
        self.fields = {**names, "slug": self.slug_field(), **organisation_fields, **self.fields}
        suggested = self.suggested_slug()
        if suggested:  # shown in the empty field when the form comes back with errors
            self.fields["slug"].widget.attrs["placeholder"] = suggested
        self.fields["username"].validators.append(get_user_model().username_validator)
        self.fields["username"].widget.attrs["autocomplete"] = "username"

    @staticmethod
    def slug_field() -> forms.SlugField:
        return forms.SlugField(
            label=_("Short name for your addresses"), max_length=SLUG_MAX, required=False,
            help_text=_("Lower-case letters, digits and hyphens, e.g. tohoku-it. It names your organisation in "
                        "its web addresses and its DID, and does not change later. Leave it empty to derive it "
                        "from the name (a Japanese name is written in Latin letters)."),
        )

    def organisation_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ["name", "name_ja", "slug", *ORGANISATION_FIELDS[2:]]]

    def suggested_slug(self) -> str:
        """The slug an empty field would give, shown back to the applicant when the form has errors."""
        data = self.data if self.is_bound else {}
        return slug_from_name(data.get("name", ""), data.get("name_ja", "")) if data.get("name") else ""

    def owner_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.OWNER_FIELDS]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(_("That username is taken."), code="taken")
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", ValidationError(_("The two passwords differ."), code="mismatch"))
        elif password1:
            # The validators compare the password with the username and e-mail of the future user.
            user = get_user_model()(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password1, user)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def apply(self) -> Organisation | None:
        """Call the service; on its refusal put the messages on the form and return None."""
        data = {name: self.cleaned_data[name] for name in [*ORGANISATION_FIELDS, "slug"]}
        owner = {
            "username": self.cleaned_data["username"], "email": self.cleaned_data["email"],
            "password": self.cleaned_data["password1"],
        }
        try:
            return organisation_apply(data=data, owner=owner)
        except DomainError as error:
            add_service_errors(self, error)
            return None


def add_service_errors(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal on the form: field messages on their fields, the rest at the top."""
    placed = False
    for field, messages in error.field_errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def logo_upload_checked(upload: Any) -> Any:
    """A new logo upload checked as the service will store it (institutions.services): its size
    before it is read, then its content. A refusal is a ValidationError with the service's message
    for the field `logo`; the upload is rewound for the service to read it again."""
    try:
        organisation_logo_size_check(upload.size)  # before reading it
        organisation_logo_checked(upload.read())
    except DomainError as error:
        raise ValidationError(error.field_errors.get("logo") or [error.message]) from None
    upload.seek(0)
    return upload


class LogoForm(forms.Form):
    """The portal's logo upload (the organisation's owners): checked here so that a refusal shows on
    the field; stored by institutions.services.organisation_set_logo."""

    logo = forms.FileField(
        label=_("Logo file"),
        help_text=_("A PNG, or an SVG without scripts or outside references; at most 256 KB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/svg+xml"}),
    )

    def clean_logo(self) -> Any:
        return logo_upload_checked(self.cleaned_data["logo"])
