"""Pages of institutions: the public membership application and the portal dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from badges.models import Programme
from endorsement.credentials import in_force_q
from endorsement.models import Application, ApplicationState, Endorsement
from institutions.forms import MembershipApplicationForm
from institutions.models import StaffMember
from institutions.permissions import can_edit_for, can_issue_for, may_manage_staff, staff_of


def portal_staff(request: HttpRequest) -> StaffMember:
    """The user's staff membership of a member organisation. Anyone else (the body's staff, a
    login attached to no organisation) has nothing to see in the portal's organisation pages: 404."""
    staff = staff_of(request.user)
    if staff is None or staff.organisation.is_certification_body:
        raise Http404
    return staff


def apply(request: HttpRequest) -> HttpResponse:
    """The public membership application. Invalid input writes nothing and shows each error."""
    form = MembershipApplicationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and form.apply() is not None:
        return redirect("apply_thanks")
    status = 400 if form.errors else 200
    return render(request, "institutions/apply.html", {"form": form}, status=status)


def apply_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "institutions/apply_thanks.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The organisation's standing, programmes, applications needing action and endorsements.
    The body's staff (and any login without a member organisation) get a pointer elsewhere."""
    staff = staff_of(request.user)
    if staff is None or staff.organisation.is_certification_body:
        return render(request, "portal/dashboard_other.html", {"staff": staff})
    organisation = staff.organisation
    can_edit = can_edit_for(request.user, organisation)
    can_issue = can_issue_for(request.user, organisation)
    programmes = organisation.programmes.prefetch_related(
        Prefetch("applications", queryset=Application.objects.order_by("-created_at", "-pk"))
    ).order_by("name_en", "name_ja", "pk")
    # Drafts and changes requested wait for an owner or editor: only they are asked to act on them.
    needing_action = (
        Application.objects.filter(
            organisation=organisation, state__in=[ApplicationState.CHANGES_REQUESTED, ApplicationState.DRAFT]
        )
        .select_related("programme", "pathway")
        .order_by("state", "-updated_at")
    ) if can_edit else Application.objects.none()
    # Owners and issuers award badges: the programmes with an endorsement in force, one click each.
    awardable = Programme.objects.filter(
        organisation=organisation,
        pk__in=Endorsement.objects.filter(in_force_q(timezone.now())).values("programme_id"),
    ).order_by("name_en", "name_ja", "pk") if can_issue else Programme.objects.none()
    endorsements = (
        Endorsement.objects.filter(organisation=organisation, programme__isnull=False).select_related("programme")
        .order_by("-valid_from")
    )
    context = {
        "staff": staff,
        "organisation": organisation,
        "can_edit": can_edit,
        "can_issue": can_issue,
        "awardable": awardable,
        "can_manage_staff": may_manage_staff(request.user, organisation),
        "programme_rows": [(p, next(iter(p.applications.all()), None)) for p in programmes],
        "needing_action": needing_action,
        "endorsements": endorsements,
    }
    return render(request, "portal/dashboard.html", context)
