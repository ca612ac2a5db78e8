"""Staff pages for webhooks: endpoints (secret shown once on creation), the delivery log, resend.

Every page needs ``manage_webhooks``. Endpoints disabled after failing for 3 days are announced
on the endpoint list, so staff notice them (ADR 0020). A new secret (on creation, on rotation)
is shown on the page that answers the form or action, never cached, and never put in a message:
messages may travel in a cookie or be stored in the session (ADR 0027).
"""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from config.rights import MANAGE_WEBHOOKS
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.targets import TargetRefused


class ManageWebhooksOnly:
    def has_module_permission(self, request):
        return request.user.has_perm(MANAGE_WEBHOOKS)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_WEBHOOKS)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_WEBHOOKS)

    def has_add_permission(self, request):
        return request.user.has_perm(MANAGE_WEBHOOKS)

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_WEBHOOKS)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ManageWebhooksOnly, admin.ModelAdmin):
    list_display = ("id", "url", "enabled", "event_types", "failing_since", "disabled_reason")
    list_filter = ("enabled",)
    search_fields = ("url", "description")
    fields = ("url", "event_types", "description", "enabled", "failing_since", "disabled_reason", "created_at")
    readonly_fields = ("failing_since", "disabled_reason", "created_at")
    actions = ["rotate_secret", "drop_previous_secret"]

    def changelist_view(self, request, extra_context=None):
        for endpoint in WebhookEndpoint.objects.filter(enabled=False).exclude(disabled_reason=""):
            messages.warning(request, f"Webhook endpoint {endpoint}: {endpoint.disabled_reason}")
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        try:
            if change:
                changes = {name: form.cleaned_data[name] for name in form.changed_data}
                services.endpoint_change(endpoint=obj, actor=request.user, **changes)
                return
            created, secret = services.endpoint_create(
                url=obj.url, event_types=obj.event_types or [], description=obj.description, actor=request.user
            )
        except TargetRefused as refused:
            messages.error(request, f"Not saved: not an allowed webhook target: {refused}")
            return
        obj.pk = created.pk
        request.webhook_secret = secret  # for response_add, this response only

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "webhook_secret", None)
        if secret is None:  # refused: the message says why
            return super().response_add(request, obj, post_url_continue)
        return self._secrets_page(request, "Webhook endpoint added.", [(obj, secret)])

    def _secrets_page(self, request, intro: str, shown: list) -> TemplateResponse:
        response = TemplateResponse(
            request,
            "admin/webhooks/webhookendpoint/secrets_shown.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Webhook signing secret",
                "intro": intro,
                "shown": shown,
            },
        )
        add_never_cache_headers(response)
        return response

    @admin.action(description="Rotate the signing secret (the old one signs too for 24 h)")
    def rotate_secret(self, request, queryset):
        shown = [(endpoint, services.endpoint_rotate_secret(endpoint=endpoint)) for endpoint in queryset]
        return self._secrets_page(request, "New signing secrets; the old ones sign beside them for 24 h.", shown)

    @admin.action(description="Stop signing with the previous secret now")
    def drop_previous_secret(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_drop_previous_secret(endpoint=endpoint)
        messages.info(request, f"{queryset.count()} endpoints now sign with their current secret only")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ManageWebhooksOnly, admin.ModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "event_type",
        "position",
        "aggregate_id",
        "aggregate_version",
        "state",
        "attempts",
        "status_code",
        "duration_ms",
        "error",
        "next_attempt_at",
    )
    list_filter = ("state", "endpoint")
    search_fields = ("event_id", "aggregate_id")
    exclude = ("body",)
    actions = ["resend"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "body"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send again")
    def resend(self, request, queryset):
        for delivery in queryset:
            services.delivery_resend(delivery=delivery)
        messages.info(request, f"{queryset.count()} deliveries queued again")
