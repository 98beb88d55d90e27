"""/api/v1/ routes of pathway completion (pathways.completion_api), included from config/api_urls.py."""

from django.urls import path

from pathways import completion_api

urlpatterns = [
    path("pathways/<uuid:public_id>/completions", completion_api.PathwayCompletionsView.as_view(),
         name="api-pathway-completions"),
    path("pathway-completions/<uuid:public_id>", completion_api.CompletionView.as_view(),
         name="api-pathway-completion"),
    path("pathway-completions/<uuid:public_id>/credentials", completion_api.CompletionCredentialsView.as_view(),
         name="api-pathway-completion-credentials"),
    path("pathway-completions/<uuid:public_id>/awards", completion_api.CompletionAwardsView.as_view(),
         name="api-pathway-completion-awards"),
    path("pathway-completions/<uuid:public_id>/issue", completion_api.CompletionIssueView.as_view(),
         name="api-pathway-completion-issue"),
    path("pathway-completions/<uuid:public_id>/decision", completion_api.CompletionDecisionView.as_view(),
         name="api-pathway-completion-decision"),
]
