from django.urls import path

from institutions.api import views

urlpatterns = [
    path("auth/token", views.TokenObtainApi.as_view(), name="auth-token"),
    path("me", views.MeApi.as_view(), name="me"),
    path("organisations/apply", views.OrganisationApplyApi.as_view(), name="organisation-apply"),
    path("conflicts", views.ConflictDeclareApi.as_view(), name="conflict-declare"),
]
