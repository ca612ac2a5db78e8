"""API tokens in the admin: issue one (shown once, on the page that answers the form), rename,
revoke (delete); the list shows a token's first characters only, never a usable key (ADR 0022).
Staff issue tokens for themselves; only a superuser issues them for others (ADR 0031).
"""

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from knox.models import get_digest_token
from knox.settings import CONSTANTS

from api.models import ApiToken
from api.tokens import token_issue_refusal


class ApiTokenIssueForm(forms.ModelForm):
    # The user filling the form in; set by ``ApiTokenAdmin.get_form`` for this request.
    issuer = None

    expires_days = forms.IntegerField(
        min_value=1,
        max_value=settings.API_TOKEN_MAX_EXPIRY_DAYS,
        initial=settings.API_TOKEN_EXPIRY_DAYS,
        help_text="Days until it stops working.",
    )

    class Meta:
        model = ApiToken
        fields = ("user", "name")

    def clean_user(self):
        user = self.cleaned_data["user"]
        if (refusal := token_issue_refusal(issuer=self.issuer, user=user)) is not None:
            raise forms.ValidationError(refusal, code="token_for_another_user")
        return user


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created", "expiry", "last_used_at", "state")
    list_select_related = ("user",)
    search_fields = ("name", "user__username")
    ordering = ("-created",)
    raw_id_fields = ("user",)
    readonly_fields = ("user", "prefix", "created", "expiry", "last_used_at", "state")

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None):
        if obj is None:
            return ("user", "name", "expires_days")
        return ("name", "user", "prefix", "created", "expiry", "last_used_at", "state")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None):
        return () if obj is None else self.readonly_fields

    def get_form(self, request: HttpRequest, obj: ApiToken | None = None, **kwargs: Any):
        if obj is None:
            kwargs["form"] = type("ApiTokenIssueForm", (ApiTokenIssueForm,), {"issuer": request.user})
        return super().get_form(request, obj, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description="token starts with")
    def prefix(self, obj: ApiToken) -> str:
        return f"{obj.token_key[:8]}…"

    @admin.display(description="state")
    def state(self, obj: ApiToken) -> str:
        return "expired" if obj.expiry is not None and obj.expiry <= timezone.now() else "active"

    def save_model(self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm, change: bool) -> None:
        if not change:
            obj.digest, token = get_digest_token()
            obj.token_key = token[: CONSTANTS.TOKEN_KEY_LENGTH]
            obj.expiry = timezone.now() + timedelta(days=form.cleaned_data["expires_days"])
            request.issued_api_token = token  # for response_add, this response only
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None) -> HttpResponse:
        """Show the token on this page, once: not in a message (the session may store those)."""
        response = TemplateResponse(
            request,
            "admin/api/apitoken/issued.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "API token issued",
                "api_token": obj,
                "token": request.issued_api_token,
            },
        )
        add_never_cache_headers(response)
        return response
