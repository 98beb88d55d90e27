"""Pages of pathway completion (pathways.completion_views), included from config/page_urls.py."""

from django.urls import path

from pathways import completion_views

urlpatterns = [
    path("portal/pathways/<uuid:public_id>/completions/new/", completion_views.completion_new,
         name="pathway-completion-new"),
    path("portal/pathway-completions/<uuid:public_id>/", completion_views.completion_staff,
         name="pathway-completion-staff"),
    path("pathway-completion/<str:token>/", completion_views.completion_learner, name="pathway-completion-learner"),
    path("pathway-credentials/<uuid:public_id>", completion_views.pathway_credential, name="pathway-credential"),
    path("pathway-credentials/<uuid:public_id>.json", completion_views.pathway_credential_json,
         name="pathway-credential-json"),
    path("pathway-credentials/<uuid:public_id>/clr", completion_views.pathway_clr, name="pathway-clr"),
]
