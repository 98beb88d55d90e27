from rest_framework.routers import SimpleRouter

from badges.api.views import ProgrammeViewSet

router = SimpleRouter(trailing_slash=False)
router.register("programmes", ProgrammeViewSet, basename="programme")

urlpatterns = router.urls
