"""Pages for awards (badges.award_views), included from config/page_urls.py in the "awards"
namespace: the organisation's portal pages, and the learner's public badge page and downloads."""

from django.urls import path

from badges import award_views

urlpatterns = [
    path("portal/programmes/<uuid:public_id>/awards/", award_views.programme_awards, name="programme"),
    path("portal/programmes/<uuid:public_id>/awards/new/", award_views.award_new, name="new"),
    path("portal/programmes/<uuid:public_id>/award-batches/new/", award_views.batch_new, name="batch_new"),
    path("portal/programmes/<uuid:public_id>/evidence-files/", award_views.evidence_files_page,
         name="evidence_files"),
    path("portal/award-batches/template-<str:language>.csv", award_views.batch_template, name="batch_template"),
    path("portal/batches/<uuid:public_id>/", award_views.batch_detail, name="batch"),
    path("portal/batches/<uuid:public_id>/progress.json", award_views.batch_progress, name="batch_progress"),
    path("portal/batches/<uuid:public_id>/restart/", award_views.batch_restart, name="batch_restart"),
    path("portal/awards/<uuid:public_id>/", award_views.award_detail, name="detail"),
    path("portal/awards/<uuid:public_id>/revoke/", award_views.award_revoke_page, name="revoke"),
    path("portal/evidence/<str:token>/withdraw/", award_views.evidence_withdraw_page, name="evidence_withdraw"),
    path("badges/<uuid:public_id>", award_views.badge_page, name="badge"),
    path("badges/<uuid:public_id>.json", award_views.badge_json, name="badge_json"),
    path("badges/<uuid:public_id>.png", award_views.badge_png, name="badge_png"),
    path("badges/<uuid:public_id>.svg", award_views.badge_svg, name="badge_svg"),
    path("badges/<uuid:public_id>/certificate-<str:language>.pdf", award_views.badge_certificate,
         name="badge_certificate"),
]
