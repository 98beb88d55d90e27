from django.urls import path
from rest_framework.routers import SimpleRouter

from badges.api import verify
from badges.api.views import ProgrammeViewSet

router = SimpleRouter(trailing_slash=False)
router.register("programmes", ProgrammeViewSet, basename="programme")

urlpatterns = router.urls + [
    # Verification of any credential (badges/api/verify.py)
    path("verify", verify.VerifyView.as_view(), name="api-verify"),
]
