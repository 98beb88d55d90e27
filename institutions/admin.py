"""The certification body's admin: who may see what, the transition buttons shared by every change
page, and the organisations (membership decisions) and conflicts of interest.

Access comes from institutions.permissions (the body's reviewers and managers see, managers decide)
rather than Django model permissions, so no group has to be set up; superusers see everything.
Every write a button or form makes goes through a service; a refused one changes nothing and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from config.errors import DomainError
from config.fsm import allowed_transitions
from config.phrases import with_break_opportunities
from institutions import services
from institutions import staff as staff_services
from institutions.forms import logo_upload_checked
from institutions.models import (
    ConflictOfInterest,
    InvitationState,
    Organisation,
    Role,
    StaffInvitation,
    StaffMember,
)
from institutions.permissions import is_body_staff, is_manager

admin.site.site_header = _("Certification body")
admin.site.site_title = _("Certification body")
admin.site.index_title = _("Reviews, decisions and the audit trail")


def body_can_view(user: Any) -> bool:
    """Reviewers and managers of the body, and superusers: the people the admin is for."""
    return bool(getattr(user, "is_active", False) and (user.is_superuser or is_body_staff(user)))


# What people call the fields services name in their messages (a service says `comment`; the
# admin's text box says "Reason").
FIELD_LABELS = {
    "comment": _("Comment"), "message": _("Message"), "reason": _("Reason"), "summary": _("Summary"),
    "reviewer": _("Reviewer"), "role": _("Role"), "email": _("E-mail address"), "username": _("Username"),
    "password": _("Password"), "organisation": _("Organisation"),
}


def field_label(field: str, labels: dict[str, Any] | None = None) -> str:
    label = (labels or {}).get(field) or FIELD_LABELS.get(field)
    return str(label) if label else field.replace("_", " ").capitalize()


def describe_error(error: DomainError, labels: dict[str, Any] | None = None) -> str:
    """The service's message, followed by its field messages (which say what exactly is wrong),
    each under the name people read on the page (`labels`, else FIELD_LABELS)."""
    details = []
    for field, field_messages in error.field_errors.items():
        shown = [str(m) for m in field_messages if str(m) != str(error.message)]
        if shown:
            details.append(f"{field_label(field, labels)}: {' '.join(shown)}")
    return " ".join([str(error.message), *details])


def perform(request: HttpRequest, call: Callable[[], Any], success: str,
            labels: dict[str, Any] | None = None) -> tuple[bool, Any]:
    """Run one service call; show its error (nothing was written: services are atomic) or `success`."""
    try:
        result = call()
    except DomainError as error:
        messages.error(request, describe_error(error, labels))
        return False, None
    messages.success(request, success)
    return True, result


class BodyAdmin(admin.ModelAdmin):
    """Read-only for the body's reviewers and managers unless a subclass allows more. Adding and
    deleting through the admin would bypass the services and the audit trail, so neither is offered."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return body_can_view(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return body_can_view(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return body_can_view(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@dataclass(frozen=True)
class Button:
    """One POST button on a change page that calls one service.

    Shown when the FSM `transition` is allowed to the user now (state, permission and conditions),
    or, for a button that is not a transition, when `shown(user, obj)` says so. `run(actor, obj,
    text)` calls the service; `text` is the content of the button's text field, if it has one.
    """

    name: str
    label: str
    run: Callable[[Any, Any, str], Any]
    done: str
    transition: str | None = None
    shown: Callable[[Any, Any], bool] | None = None
    text: str = ""
    text_required: bool = False
    danger: bool = False
    open_result: bool = False  # after success, go to the object the service returned
    # Asked before the service runs (a page of its own, so it works without JS): what the button
    # does, in a sentence. The second POST carries confirmed=yes.
    confirm: str = ""

    def available(self, user: Any, obj: Any) -> bool:
        if self.transition:
            return bool(allowed_transitions(obj, user, [self.transition]))
        return bool(self.shown and self.shown(user, obj))


class ButtonsAdminMixin:
    """Adds `<id>/do/<button>/` (POST, CSRF-protected, staff only) and lists on the change page the
    buttons the user may use now. Posting a button one may not use is refused by the service."""

    buttons: tuple[Button, ...] = ()
    change_form_template = "admin/change_form_with_buttons.html"

    def get_urls(self) -> list:
        opts = self.model._meta
        view = self.admin_site.admin_view(self.button_view)
        name = f"{opts.app_label}_{opts.model_name}_button"
        return [path("<path:object_id>/do/<slug:button>/", view, name=name), *super().get_urls()]

    def change_url(self, obj: Any) -> str:
        opts = obj._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk],
                       current_app=self.admin_site.name)

    def visible_object(self, request: HttpRequest, object_id: str) -> Any:
        """The object, if the user may see it in the admin; 404 or 403 otherwise."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return obj

    def button_view(self, request: HttpRequest, object_id: str, button: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.visible_object(request, object_id)
        chosen = next((b for b in self.buttons if b.name == button), None)
        if chosen is None:
            raise Http404
        text = request.POST.get("text", "")
        # Confirm first what can run now; what cannot goes straight to the service, which says why.
        if (chosen.confirm and request.POST.get("confirmed") != "yes" and (text.strip() or not chosen.text_required)
                and chosen.available(request.user, obj)):
            return self.confirm_view(request, obj, chosen, text)
        # The button's text box is what the service calls its comment, message or reason.
        labels = {name: chosen.text for name in ("comment", "message", "reason", "summary")} if chosen.text else None
        ok, result = perform(request, lambda: chosen.run(request.user, obj, text), str(chosen.done), labels)
        if ok and chosen.open_result and result is not None:
            return HttpResponseRedirect(self.change_url(result))
        return HttpResponseRedirect(self.change_url(obj))

    def confirm_view(self, request: HttpRequest, obj: Any, button: Button, text: str) -> HttpResponse:
        """Ask before a button with `confirm` runs; nothing is written until the answer."""
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request), "opts": opts, "object": obj, "button": button, "text": text,
            "title": button.label, "change_url": self.change_url(obj),
            "url": reverse(f"admin:{opts.app_label}_{opts.model_name}_button", args=[obj.pk, button.name],
                           current_app=self.admin_site.name),
        }
        return TemplateResponse(request, "admin/button_confirm.html", context)

    def object_buttons(self, request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
        opts = self.model._meta
        return [
            {
                "name": b.name, "label": b.label, "text": b.text, "text_required": b.text_required,
                "danger": b.danger, "confirm": b.confirm,
                "url": reverse(f"admin:{opts.app_label}_{opts.model_name}_button", args=[obj.pk, b.name],
                               current_app=self.admin_site.name),
            }
            for b in self.buttons
            if b.available(request.user, obj)
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["object_buttons"] = self.object_buttons(request, obj) if obj is not None else []
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


# --- Organisations --------------------------------------------------------------------------------
class StaffMemberInline(ReadOnlyInline):
    model = StaffMember
    fields = ("user", "role", "joined_at")
    readonly_fields = fields
    verbose_name_plural = _("staff members")


class ConflictInline(ReadOnlyInline):
    model = ConflictOfInterest
    fields = ("reviewer", "reason", "declared_at")
    readonly_fields = fields
    verbose_name_plural = _("declared conflicts of interest")


class OrganisationForm(forms.ModelForm):
    """The logo is checked here, so that a refusal is shown on its field; it is stored by the service
    (institutions.services.organisation_set_logo: cleaned, audited), never by the form."""

    class Meta:
        model = Organisation
        fields = ["logo"]  # the admin's fieldsets name the rest

    def clean_logo(self) -> Any:
        upload = self.cleaned_data.get("logo")
        if upload and hasattr(upload, "content_type"):  # a new upload (not the stored file)
            return logo_upload_checked(upload)
        return upload


@admin.register(Organisation)
class OrganisationAdmin(ButtonsAdminMixin, BodyAdmin):
    form = OrganisationForm
    list_display = ("name", "japanese_name", "kind", "membership", "country", "applied_at")
    list_filter = ("membership", "kind", "is_certification_body")
    search_fields = ("name", "name_ja", "slug", "contact_name", "contact_email")
    date_hierarchy = "applied_at"
    ordering = ("-applied_at",)
    fieldsets = (
        (None, {"fields": ("name", "name_ja", "slug", "kind", "description", "website", "country", "logo")}),
        (_("Contact"), {"fields": ("contact_name", "contact_email", "contact_phone")}),
        (_("Membership"), {"fields": ("membership", "is_certification_body", "applied_at", "membership_changed_at")}),
        (_("Badges"), {"fields": ("recipient_names",)}),
    )
    # The membership moves only through the buttons (services, audited); the slug names the
    # organisation's did:web, so it does not change either. What badges say about learners is the
    # organisation's own choice (its owners, API `organisation/recipient-names`).
    readonly_fields = ("slug", "membership", "is_certification_body", "applied_at", "membership_changed_at",
                       "recipient_names")
    inlines = (StaffMemberInline, ConflictInline)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    buttons = (
        Button("approve", _("Approve membership"), transition="approve", text=_("Comment (optional)"),
               run=lambda actor, org, text: services.organisation_approve(actor=actor, organisation=org,
                                                                           comment=text),
               done=_("Membership approved.")),
        Button("reject", _("Reject application"), transition="reject", text=_("Reason"), text_required=True,
               danger=True, done=_("Membership application rejected."),
               run=lambda actor, org, text: services.organisation_reject(actor=actor, organisation=org,
                                                                          comment=text)),
        Button("suspend", _("Suspend membership"), transition="suspend", text=_("Reason"), text_required=True,
               danger=True, done=_("Membership suspended."),
               run=lambda actor, org, text: services.organisation_suspend(actor=actor, organisation=org,
                                                                           comment=text)),
        Button("reinstate", _("Reinstate membership"), transition="reinstate", text=_("Comment (optional)"),
               done=_("Membership reinstated."),
               run=lambda actor, org, text: services.organisation_reinstate(actor=actor, organisation=org,
                                                                             comment=text)),
        Button("withdraw", _("Withdraw membership"), transition="withdraw", text=_("Comment (optional)"),
               danger=True, done=_("Membership withdrawn."),
               run=lambda actor, org, text: services.organisation_withdraw(actor=actor, organisation=org,
                                                                            comment=text)),
    )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Managers correct an organisation's details (name, contact); the rest is read-only.
        return is_manager(request.user)

    def save_model(self, request: HttpRequest, obj: Organisation, form: forms.Form, change: bool) -> None:
        logo_changed = "logo" in form.changed_data
        if logo_changed:
            upload = form.cleaned_data.get("logo")
            obj.logo = Organisation.objects.get(pk=obj.pk).logo if obj.pk else ""  # the service stores it
        super().save_model(request, obj, form, change)
        if change:
            services.organisation_details_corrected(organisation=obj, fields=form.changed_data)
        if logo_changed:
            services.organisation_set_logo(actor=request.user, organisation=obj,
                                           data=upload.read() if upload else None)

    @admin.display(description=_("name (Japanese)"), ordering="name_ja")
    def japanese_name(self, organisation: Organisation) -> str:
        """With break opportunities between phrases: a narrow column never cuts a word."""
        return with_break_opportunities(organisation.name_ja) if organisation.name_ja else "—"


# --- Conflicts of interest ------------------------------------------------------------------------
class ConflictDeclarationForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.filter(is_certification_body=False).order_by("name"),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60}))


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(BodyAdmin):
    """Every declaration, for the managers who assign reviews; each body member declares their own
    through `conflict_declare` (which also withdraws their open reviews of that organisation)."""

    list_display = ("reviewer", "organisation", "declared_at", "reason")
    list_filter = ("organisation",)
    search_fields = ("reviewer__username", "organisation__name", "organisation__name_ja", "reason")
    list_select_related = ("reviewer", "organisation")
    fields = ("reviewer", "organisation", "reason", "declared_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_body_staff(request.user)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """Declare a conflict for oneself (the reviewer is always request.user)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        from endorsement.services import conflict_declare

        form = ConflictDeclarationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            ok, _result = perform(
                request,
                lambda: conflict_declare(actor=request.user, organisation=form.cleaned_data["organisation"],
                                         reason=form.cleaned_data["reason"]),
                str(_("Conflict of interest declared.")),
            )
            if ok:
                return redirect("admin:institutions_conflictofinterest_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Declare a conflict of interest"),
            "form": form,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/institutions/conflictofinterest/declare.html", context)


# --- The body's staff -----------------------------------------------------------------------------
def _body_role_button(role: str, label: Any) -> Button:
    return Button(
        f"make-{role}", label, done=_("Role changed."),
        shown=lambda user, member: is_manager(user) and member.organisation.is_certification_body
        and member.role != role,
        run=lambda actor, member, text: staff_services.staff_change_role(
            actor=actor, organisation=member.organisation, member_id=member.pk, role=role),
    )


@admin.register(StaffMember)
class BodyStaffAdmin(ButtonsAdminMixin, BodyAdmin):
    """The body's reviewers and managers. Managers change their roles and remove them (never the
    last manager); new ones are invited (staff invitations). Member organisations' staff are managed
    by their owners in the portal and are listed on each organisation's page."""

    list_display = ("user", "email", "role", "joined_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user", "organisation")
    fields = ("user", "email", "role", "joined_at")
    readonly_fields = fields
    buttons = (
        _body_role_button(Role.MANAGER, _("Make manager")),
        _body_role_button(Role.REVIEWER, _("Make reviewer")),
        Button("remove", _("Remove from the body's staff"), danger=True,
               done=_("Removed from the staff; their login no longer works."),
               shown=lambda user, member: is_manager(user) and member.organisation.is_certification_body,
               run=lambda actor, member, text: staff_services.staff_remove(
                   actor=actor, organisation=member.organisation, member_id=member.pk)),
    )

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(organisation__is_certification_body=True)

    @admin.display(description=_("e-mail address"), ordering="user__email")
    def email(self, member: StaffMember) -> str:
        return member.user.email

    def button_view(self, request: HttpRequest, object_id: str, button: str) -> HttpResponse:
        response = super().button_view(request, object_id, button)
        # A removed member has no page any more: back to the list.
        if button == "remove" and not StaffMember.objects.filter(pk=unquote(object_id)).exists():
            return redirect("admin:institutions_staffmember_changelist")
        return response


class BodyInvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=[(Role.REVIEWER, Role.REVIEWER.label),
                                                        (Role.MANAGER, Role.MANAGER.label)])


@admin.register(StaffInvitation)
class BodyInvitationAdmin(ButtonsAdminMixin, BodyAdmin):
    """Invitations to join the body as a reviewer or manager: managers send them (the person sets
    their own password through the e-mailed link) and withdraw pending ones."""

    list_display = ("email", "role", "shown_state_display", "invited_by", "created_at", "expires_at")
    list_filter = ("state", "role")
    search_fields = ("email",)
    list_select_related = ("invited_by", "organisation")
    fields = ("email", "role", "state", "invited_by", "created_at", "expires_at", "decided_at", "accepted_user")
    readonly_fields = fields
    buttons = (
        Button("revoke", _("Withdraw the invitation"), transition="revoke", danger=True,
               done=_("Invitation withdrawn."),
               run=lambda actor, invitation, text: staff_services.staff_invitation_revoke(
                   actor=actor, invitation=invitation)),
    )

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(organisation__is_certification_body=True)

    @admin.display(description=_("state"), ordering="state")
    def shown_state_display(self, invitation: StaffInvitation) -> str:
        return str(InvitationState(invitation.shown_state).label)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_manager(request.user)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        """Invite a reviewer or manager of the body by e-mail."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BodyInvitationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            body = Organisation.objects.get(is_certification_body=True)
            ok, _result = perform(
                request,
                lambda: staff_services.staff_invite(actor=request.user, organisation=body,
                                                    email=form.cleaned_data["email"], role=form.cleaned_data["role"]),
                str(_("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}),
            )
            if ok:
                return redirect("admin:institutions_staffinvitation_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Invite a reviewer or manager"),
            "form": form,
            "days": settings.STAFF_INVITATION_DAYS,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/institutions/staffinvitation/invite.html", context)
