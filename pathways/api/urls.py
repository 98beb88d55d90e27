from rest_framework.routers import SimpleRouter

from pathways.api import views

router = SimpleRouter(trailing_slash=False)
router.register("pathways", views.PathwayViewSet, basename="pathway")

urlpatterns = router.urls
