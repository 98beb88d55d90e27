from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("webhooks", views.EndpointListView.as_view(), name="webhook-list"),
    path("webhooks/<uuid:public_id>", views.EndpointDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<uuid:public_id>/rotate-secret", views.RotateSecretView.as_view(), name="webhook-rotate-secret"),
    path("webhooks/<uuid:public_id>/test", views.SendTestView.as_view(), name="webhook-test"),
    path("webhooks/<uuid:public_id>/deliveries", views.DeliveryListView.as_view(), name="webhook-deliveries"),
    path("webhooks/<uuid:public_id>/deliveries/<str:webhook_id>/replay", views.DeliveryReplayView.as_view(),
         name="webhook-delivery-replay"),
]
