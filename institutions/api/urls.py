from django.urls import path

from institutions.api import staff, views

urlpatterns = [
    path("auth/token", views.TokenObtainApi.as_view(), name="auth-token"),
    path("me", views.MeApi.as_view(), name="me"),
    path("organisations/apply", views.OrganisationApplyApi.as_view(), name="organisation-apply"),
    *[
        path(f"organisations/<slug:slug>/{decision}", staff.MembershipDecisionView.as_view(decision=decision),
             name=f"organisation-{decision}")
        for decision in staff.DECISIONS
    ],
    path("conflicts", views.ConflictDeclareApi.as_view(), name="conflict-declare"),
    path("organisation/recipient-names", staff.RecipientNamesView.as_view(), name="organisation-recipient-names"),
    path("organisation/logo", staff.LogoView.as_view(), name="organisation-logo"),
    path("staff", staff.StaffListView.as_view(), name="staff-list"),
    path("staff/<int:pk>", staff.StaffDetailView.as_view(), name="staff-detail"),
    path("staff-invitations", staff.InvitationListView.as_view(), name="staff-invitations"),
    path("staff-invitations/<uuid:public_id>/revoke", staff.InvitationRevokeView.as_view(),
         name="staff-invitation-revoke"),
    path("staff-invitations/<str:token>/accept", staff.InvitationAcceptView.as_view(),
         name="staff-invitation-accept"),
]
