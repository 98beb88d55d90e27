"""The learner's pages (learners.views), included from config/page_urls.py as "learners"."""

from django.urls import path

from learners import views, wallet_views

urlpatterns = [
    path("learner/claim/<str:token>/", views.claim, name="claim"),
    path("learner/sign-in/", views.sign_in, name="sign_in"),
    path("learner/sign-in/<str:token>/", views.sign_in_link, name="sign_in_link"),
    path("learner/sign-out/", views.sign_out, name="sign_out"),
    path("learner/", views.account, name="account"),
    path("learner/badges/<uuid:public_id>/visibility/", views.visibility, name="visibility"),
    path("learner/addresses/", views.address_add, name="address_add"),
    path("learner/language/", views.language, name="language"),
    path("learner/addresses/<str:token>/", views.address_confirm, name="address_confirm"),
    path("learner/badges.zip", views.download, name="download"),
    path("learner/delete/", views.delete, name="delete"),
    path("learner/wallets/", wallet_views.connected, name="wallets"),
    path("learner/applications/<int:pk>/revoke/", wallet_views.access_revoke, name="access_revoke"),
]
