"""URL map. Public: home, registry, membership application, verification. Staff of members: portal
pages and /api/v1/. The body: /admin/."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # The 1EdTech Open Badges 3.0 API as a host: wallets read the learners' badges (docs/api.md).
    path("ims/ob/v3p0/", include(("learners.wallet_urls", "obapi"))),
    path("", include("config.ld_urls")),
    path("", include("config.page_urls")),
]
if settings.WEBHOOK_DEMO_RECEIVER:  # the demo only (DEBUG): seed_demo's endpoints deliver here (webhooks/demo.py)
    from webhooks.demo import demo_receiver

    urlpatterns.insert(0, path("demo/webhook-receiver/<slug:slug>/", demo_receiver, name="demo_webhook_receiver"))
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
