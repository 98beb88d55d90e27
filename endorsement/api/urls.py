from django.urls import path
from rest_framework.routers import SimpleRouter

from endorsement.api import quality, reports, views

router = SimpleRouter(trailing_slash=False)
router.register("applications", views.ApplicationViewSet, basename="application")
router.register("reviews", views.ReviewViewSet, basename="review")
router.register("endorsements", views.EndorsementViewSet, basename="endorsement")
router.register("criteria-tables", views.CriteriaTableViewSet, basename="criteria-table")
router.register("issuance-reports", reports.IssuanceReportViewSet, basename="issuance-report")
router.register("quality-reviews", quality.QualityReviewViewSet, basename="quality-review")

urlpatterns = [
    *router.urls,
    # Issuance reports (endorsement/api/reports.py)
    path("programmes/<uuid:public_id>/issuance-reports", reports.ProgrammeIssuanceReportsView.as_view(),
         name="programme-issuance-reports"),
]
