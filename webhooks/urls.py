"""Routes of the webhook API, included under ``/api/webhooks/`` in the API's namespace (ADR 0020).

Each URL serves a read and its changes from different view classes (``api.routing.resource``):
reads are queries, changes are commands, with their own rights, throttles and consistency rules.
"""

from django.urls import path

from api.routing import resource
from webhooks import api

Webhooks = resource("Webhooks", get=api.WebhookListApi, post=api.WebhookCreateApi)
Webhook = resource("Webhook", get=api.WebhookDetailApi, patch=api.WebhookChangeApi, delete=api.WebhookDeleteApi)

urlpatterns = [
    path("", Webhooks.as_view(), name="webhook-list"),
    path("<int:webhook_id>/", Webhook.as_view(), name="webhook-detail"),
    path("<int:webhook_id>/rotate-secret/", api.WebhookRotateSecretApi.as_view(), name="webhook-rotate"),
    path(
        "<int:webhook_id>/drop-previous-secret/",
        api.WebhookDropPreviousSecretApi.as_view(),
        name="webhook-drop-previous-secret",
    ),
    path("<int:webhook_id>/deliveries/", api.WebhookDeliveriesApi.as_view(), name="webhook-deliveries"),
    path(
        "<int:webhook_id>/deliveries/<int:delivery_id>/resend/",
        api.WebhookDeliveryResendApi.as_view(),
        name="webhook-resend",
    ),
    path("<int:webhook_id>/replay/", api.WebhookReplayApi.as_view(), name="webhook-replay"),
]
