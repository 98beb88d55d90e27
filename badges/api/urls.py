from django.urls import path
from rest_framework.routers import SimpleRouter

from badges.api import awards, verify
from badges.api.views import ProgrammeViewSet

router = SimpleRouter(trailing_slash=False)
router.register("programmes", ProgrammeViewSet, basename="programme")

urlpatterns = [
    *router.urls,
    # Awards (badges/api/awards.py)
    path("programmes/<uuid:public_id>/awards", awards.ProgrammeAwardsView.as_view(), name="programme-awards"),
    path("programmes/<uuid:public_id>/award-batches", awards.ProgrammeAwardBatchesView.as_view(),
         name="programme-award-batches"),
    path("programmes/<uuid:public_id>/evidence-files", awards.ProgrammeEvidenceFilesView.as_view(),
         name="programme-evidence-files"),
    path("award-batches/<uuid:public_id>", awards.AwardBatchView.as_view(), name="award-batch-detail"),
    path("award-batches/<uuid:public_id>/restart", awards.AwardBatchRestartView.as_view(),
         name="award-batch-restart"),
    path("awards/<uuid:public_id>", awards.AwardView.as_view(), name="award-detail"),
    path("awards/<uuid:public_id>/revoke", awards.AwardRevokeView.as_view(), name="award-revoke"),
    path("evidence-copies/<str:token>/withdraw", awards.EvidenceWithdrawView.as_view(), name="evidence-withdraw"),
    # Verification of any credential (badges/api/verify.py)
    path("verify", verify.VerifyView.as_view(), name="api-verify"),
]
