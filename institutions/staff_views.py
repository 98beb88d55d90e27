"""Portal pages for an organisation's staff (its owners manage it; everyone on the staff sees it)
and the public page where an invitation's link is accepted. Every write calls institutions.staff;
a refusal shows the service's message and changes nothing."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.errors import DomainError
from institutions import staff as services
from institutions.forms import add_service_errors
from institutions.models import InvitationState, Role, StaffInvitation, StaffMember
from institutions.permissions import may_manage_staff
from institutions.views import portal_staff


def _role_choices(organisation) -> list[tuple[str, str]]:
    return [(r, Role(r).label) for r in services.roles_for(organisation)]


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"))
    role = forms.ChoiceField(label=gettext_lazy("Role"))

    def __init__(self, *args, organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(organisation)
        self.fields["role"].initial = services.roles_for(organisation)[-1]  # the least powerful role first
        self.fields["email"].widget.attrs["autocomplete"] = "off"


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"))

    def __init__(self, *args, organisation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(organisation)


class AcceptForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Username for your new login"), max_length=150,
        help_text=gettext_lazy("Letters, digits and @ . + - _ only."),
    )
    password1 = forms.CharField(label=gettext_lazy("Password"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=gettext_lazy("Password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "username"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password2") and cleaned["password1"] != cleaned["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


def _page(request: HttpRequest, invite_form: InviteForm | None = None, status: int = 200) -> HttpResponse:
    staff = portal_staff(request)
    organisation = staff.organisation
    can_manage = may_manage_staff(request.user, organisation)
    members = StaffMember.objects.filter(organisation=organisation).select_related("user")
    rows = [(m, RoleForm(organisation=organisation, initial={"role": m.role}, prefix=f"m{m.pk}")) for m in members]
    invitations = (StaffInvitation.objects.filter(organisation=organisation).select_related("invited_by")[:50]
                   if can_manage else [])
    context = {
        "staff": staff, "organisation": organisation, "can_manage": can_manage, "rows": rows,
        "invitations": invitations, "pending": InvitationState.PENDING,
        "invite_form": invite_form or InviteForm(organisation=organisation),
        "settings_days": settings.STAFF_INVITATION_DAYS,
    }
    return render(request, "portal/staff.html", context, status=status)


@login_required
def staff_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def staff_invite(request: HttpRequest) -> HttpResponse:
    organisation = portal_staff(request).organisation
    form = InviteForm(request.POST, organisation=organisation)
    if form.is_valid():
        try:
            invitation, _token = services.staff_invite(actor=request.user, organisation=organisation,
                                                       email=form.cleaned_data["email"],
                                                       role=form.cleaned_data["role"])
        except DomainError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("portal:staff")
    return _page(request, invite_form=form, status=400)


def _perform(request: HttpRequest, call, success: str) -> HttpResponse:
    try:
        call()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("portal:staff")


@login_required
@require_POST
def staff_role(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = portal_staff(request).organisation
    form = RoleForm(request.POST, organisation=organisation, prefix=f"m{pk}")
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return redirect("portal:staff")
    return _perform(request, lambda: services.staff_change_role(
        actor=request.user, organisation=organisation, member_id=pk, role=form.cleaned_data["role"]),
        _("Role changed."))


@login_required
@require_POST
def staff_remove(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = portal_staff(request).organisation
    return _perform(request, lambda: services.staff_remove(actor=request.user, organisation=organisation,
                                                           member_id=pk),
                    _("Removed from the staff; their login no longer works."))


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, public_id) -> HttpResponse:
    organisation = portal_staff(request).organisation
    invitation = StaffInvitation.objects.filter(organisation=organisation, public_id=public_id).first()
    if invitation is None:
        raise Http404
    return _perform(request, lambda: services.staff_invitation_revoke(actor=request.user, invitation=invitation),
                    _("Invitation withdrawn."))


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link of an invitation: choose a username and password; a new login joins the staff."""
    try:
        invitation = services.invitation_for_token(token)
    except DomainError:
        return render(request, "institutions/invitation.html", {"invalid": True}, status=404)
    problem = services.invitation_problem(invitation)
    form = AcceptForm(request.POST if request.method == "POST" and not problem else None)
    if request.method == "POST" and not problem and form.is_valid():
        try:
            member = services.staff_invitation_accept(token=token, username=form.cleaned_data["username"],
                                                      password=form.cleaned_data["password1"])
        except DomainError as error:
            if error.field_errors:
                error.field_errors = {("password1" if k == "password" else k): v
                                      for k, v in error.field_errors.items()}
                add_service_errors(form, error)
            else:
                problem = error.message
        else:
            messages.success(request, _("Welcome, %(name)s: your login is ready. Log in with it now.")
                             % {"name": member.user.get_username()})
            return redirect(f"{reverse('login')}?next={reverse('portal:dashboard')}")
    has_login = (request.user.is_authenticated
                 and get_user_model().objects.filter(pk=request.user.pk, staff__isnull=False).exists())
    context = {"invitation": invitation, "form": form, "problem": problem, "has_login": has_login}
    status = 409 if problem else (400 if form.errors else 200)
    return render(request, "institutions/invitation.html", context, status=status)
