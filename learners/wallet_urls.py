"""/ims/ob/v3p0/: the Open Badges 3.0 API as a host (learners.wallet_views, docs/api.md), namespace
"obapi". Token and revocation are django-oauth-toolkit's own views (revocation with its audit event);
its application management pages are not exposed (wallets register through `oauth/register`)."""

from django.urls import path
from oauth2_provider import views as oauth_views

from learners import wallet_views

urlpatterns = [
    path("discovery", wallet_views.discovery, name="discovery"),
    path("oauth/register", wallet_views.register, name="register"),
    path("oauth/authorize", wallet_views.Authorize.as_view(), name="authorize"),
    path("oauth/token", oauth_views.TokenView.as_view(), name="token"),
    path("oauth/revoke", wallet_views.Revoke.as_view(), name="revoke"),
    path("credentials", wallet_views.credentials, name="credentials"),
    path("profile", wallet_views.profile, name="profile"),
]
