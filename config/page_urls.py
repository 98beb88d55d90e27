"""Server-rendered pages: home, accounts, membership application, portal, registry."""

from django.urls import include, path
from django.views.generic import TemplateView

from badges import verify_views
from badges import views as badge_views
from config import auth_views
from endorsement import concern_views, federation_views, marks, registry_images, registry_views, report_views
from endorsement import views as endorsement_views
from institutions import organisation_views, staff_views
from institutions import views as institution_views
from pathways import portal_views as pathway_portal
from pathways import views as pathway_views
from webhooks import views as webhook_views

portal_patterns = [
    path("", institution_views.dashboard, name="dashboard"),
    path("programmes/new/", badge_views.programme_new, name="programme_new"),
    path("programmes/<uuid:public_id>/", badge_views.programme_detail, name="programme"),
    path("programmes/<uuid:public_id>/edit/", badge_views.programme_edit, name="programme_edit"),
    path("programmes/<uuid:public_id>/figures.csv", badge_views.programme_figures_csv, name="programme_figures_csv"),
    path("programmes/<uuid:public_id>/apply/", endorsement_views.application_new, name="application_new"),
    path("applications/<int:pk>/", endorsement_views.application_detail, name="application"),
    path("applications/<int:pk>/<slug:action>/", endorsement_views.application_transition,
         name="application_transition"),
    path("endorsements/<uuid:public_id>/", endorsement_views.endorsement_detail, name="endorsement"),
    path("endorsements/<uuid:public_id>/renew/", endorsement_views.endorsement_renew, name="endorsement_renew"),
    path("pathways/", pathway_portal.pathway_list, name="pathways"),
    path("pathways/new/", pathway_portal.pathway_new, name="pathway_new"),
    path("pathways/<uuid:public_id>/", pathway_portal.pathway_detail, name="pathway"),
    path("pathways/<uuid:public_id>/edit/", pathway_portal.pathway_edit, name="pathway_edit"),
    path("pathways/<uuid:public_id>/apply/", pathway_portal.pathway_apply, name="pathway_apply"),
    path("pathways/<uuid:public_id>/<slug:action>/", pathway_portal.pathway_transition, name="pathway_transition"),
    path("account/", organisation_views.account_page, name="account"),
    path("organisation/", organisation_views.organisation_page, name="organisation"),
    path("organisation/logo", organisation_views.organisation_logo_preview, name="organisation_logo"),
    path("organisation/logo/upload/", organisation_views.organisation_logo_upload, name="organisation_logo_upload"),
    path("organisation/logo/remove/", organisation_views.organisation_logo_remove, name="organisation_logo_remove"),
    path("staff/", staff_views.staff_page, name="staff"),
    path("staff/invite/", staff_views.staff_invite, name="staff_invite"),
    path("staff/<int:pk>/role/", staff_views.staff_role, name="staff_role"),
    path("staff/<int:pk>/remove/", staff_views.staff_remove, name="staff_remove"),
    path("staff/invitations/<uuid:public_id>/revoke/", staff_views.invitation_revoke, name="invitation_revoke"),
    path("reports/", report_views.reports, name="reports"),
    path("programmes/<uuid:public_id>/reports/", report_views.programme_reports, name="programme_reports"),
    path("programmes/<uuid:public_id>/reports/<uuid:report_id>/correct/", report_views.report_correct,
         name="report_correct"),
    path("programmes/<uuid:public_id>/reports/<uuid:report_id>/withdraw/", report_views.report_withdraw,
         name="report_withdraw"),
    path("webhooks/", webhook_views.webhook_list, name="webhooks"),
    path("webhooks/<uuid:public_id>/", webhook_views.webhook_detail, name="webhook"),
    path("webhooks/<uuid:public_id>/rotate-secret/", webhook_views.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<uuid:public_id>/enabled/", webhook_views.webhook_enabled, name="webhook_enabled"),
    path("webhooks/<uuid:public_id>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path("webhooks/<uuid:public_id>/test/", webhook_views.webhook_test, name="webhook_test"),
    path("webhooks/<uuid:public_id>/deliveries/<str:webhook_id>/replay/", webhook_views.webhook_replay,
         name="webhook_replay"),
]

registry_patterns = [
    path("registry/", registry_views.registry_index, name="index"),
    path("registry/<uuid:public_id>/", registry_views.registry_programme, name="programme"),
    path("registry/<uuid:public_id>/figures.csv", registry_views.registry_programme_figures_csv, name="figures_csv"),
    path("registry/<uuid:public_id>/concern/", concern_views.concern, name="concern"),
    path("registry/<uuid:public_id>/mark.svg", marks.mark_svg, name="mark_svg"),
    path("registry/<uuid:public_id>/mark.html", marks.mark_html, name="mark_html"),
    path("registry/<uuid:public_id>/image.png", registry_images.programme_image_png, name="image_png"),
    path("registry/pathways/<uuid:public_id>/", pathway_views.registry_pathway, name="pathway"),
    path("registry/organisations/<slug:slug>/", registry_views.registry_organisation, name="organisation"),
    path("registry/organisations/<slug:slug>/logo", registry_images.organisation_logo, name="organisation_logo"),
    path("registry/feed.atom", registry_views.registry_feed, name="feed"),
    path("registry.json", registry_views.registry_json, name="json"),
    path("registry/trust-list.json", federation_views.trust_list, name="trust_list"),
    path("registry.csv", registry_views.registry_csv, name="csv"),
    path("registry-pathways.csv", registry_views.registry_pathways_csv, name="pathways_csv"),
    path("sitemap.xml", registry_views.sitemap, name="sitemap"),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("apply/", institution_views.apply, name="apply"),
    path("apply/thanks/", institution_views.apply_thanks, name="apply_thanks"),
    path("invitations/<str:token>/", staff_views.invitation_accept, name="invitation_accept"),
    path("portal/", include((portal_patterns, "portal"))),
    path("", include((registry_patterns, "registry"))),
    path("", include(("badges.award_urls", "awards"))),  # awards: portal pages and the learner's badge
    path("", include(("learners.urls", "learners"))),  # learners: claim, sign in, their account
    path("", include("pathways.completion_urls")),  # completing a pathway (pathways.completion)
    path("verify/", verify_views.verify, name="verify"),  # verification of any credential
    path("verify", verify_views.verify),  # the same page: a form or script POSTing to /verify is not redirected
]
