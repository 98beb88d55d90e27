from rest_framework.routers import SimpleRouter

from endorsement.api import views

router = SimpleRouter(trailing_slash=False)
router.register("applications", views.ApplicationViewSet, basename="application")
router.register("reviews", views.ReviewViewSet, basename="review")
router.register("endorsements", views.EndorsementViewSet, basename="endorsement")
router.register("criteria-tables", views.CriteriaTableViewSet, basename="criteria-table")

urlpatterns = router.urls
