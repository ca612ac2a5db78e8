"""The webhook API under ``/api/webhooks/`` (CONTRACT "Events out"); right ``manage_webhooks``.

Reads are queries (``QueryApi``); changes are commands on the command base (``ChangeApi``) with
closed, strict inputs, each calling one service of ``webhooks.services``. A change of webhook
configuration is no event in the log: it takes effect at once and answers the endpoint, not a
version and position.
Routed by ``webhooks.urls``, which the API's routes include.
"""

from django.http import Http404
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api.base import ChangeApi, QueryApi, ReadParams
from api.inputs import ClosedInput
from api.permissions import any_of
from api.schema import LOCATION, QUERY_HEADERS, RETRY_AFTER, WWW_AUTHENTICATE, errors
from config.databases import read_alias
from config.limits import MAX_BIGINT
from config.rights import MANAGE_WEBHOOKS
from events import EVENT_TYPES
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.targets import TargetRefused

DELIVERY_PAGE = 100


# A change answers no X-Projection-Position and no ETag: it is no event in the log.
CHANGE_HEADERS = [WWW_AUTHENTICATE, RETRY_AFTER]


class EndpointInput(ClosedInput):
    url = serializers.URLField(max_length=2000)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENT_TYPES)), max_length=len(EVENT_TYPES), default=list
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    enabled = serializers.BooleanField(required=False)


class EndpointOutput(serializers.Serializer):
    webhook_id = serializers.IntegerField(source="pk")
    url = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField()
    failing_since = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class CreatedOutput(EndpointOutput):
    secret = serializers.CharField(help_text="`whsec_…`: shown only here, keep it.")


class RotatedOutput(CreatedOutput):
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until when the replaced secret signs too (null once dropped)."
    )


class ReplayOutput(serializers.Serializer):
    replay_id = serializers.IntegerField(source="pk")
    status = serializers.CharField(source="state", help_text="`running` until the deliverer has walked the log.")


class DeliveryOutput(serializers.Serializer):
    delivery_id = serializers.IntegerField(source="pk")
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    position = serializers.IntegerField()
    aggregate_type = serializers.CharField()
    aggregate_id = serializers.IntegerField()
    aggregate_version = serializers.IntegerField()
    status = serializers.CharField(source="state")
    attempt = serializers.IntegerField(source="attempts")
    status_code = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    next_attempt_at = serializers.SerializerMethodField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)

    def get_next_attempt_at(self, delivery) -> str | None:
        return delivery.next_attempt_at.isoformat() if delivery.state == WebhookDelivery.PENDING else None


class EndpointPage(serializers.Serializer):
    results = EndpointOutput(many=True)
    next = serializers.URLField(allow_null=True, help_text="Always null: every endpoint is on one page.")


class DeliveryPage(serializers.Serializer):
    results = DeliveryOutput(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null on the last.")


def _documented(*, parameters=(), headers=QUERY_HEADERS, **kwargs):
    """``extend_schema`` with the headers the operation may answer (a read's by default) and the webhooks tag."""
    return extend_schema(parameters=[*parameters, *headers], tags=["webhooks"], **kwargs)


def _validated(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _refused(refused: TargetRefused) -> ValidationError:
    return ValidationError({"url": [f"not an allowed webhook target: {refused}"]})


def _endpoint(webhook_id: int) -> WebhookEndpoint:
    """Return the endpoint with this id (an id past bigint is none), or answer 404."""
    found = (
        WebhookEndpoint.objects.using(read_alias()).filter(pk=webhook_id).first() if webhook_id <= MAX_BIGINT else None
    )
    if found is None:
        raise Http404
    return found


class WebhookQueryApi(QueryApi):
    """A read of webhook configuration or deliveries: nothing to wait for, the outbox head as position."""

    permission_classes = [any_of(MANAGE_WEBHOOKS)]


class WebhookCommandApi(ChangeApi):
    """A change of webhook configuration: no event in the log, so it takes effect at once."""

    permission_classes = [any_of(MANAGE_WEBHOOKS)]


class WebhookListApi(WebhookQueryApi):
    @_documented(
        summary="Webhook endpoints",
        description="Every webhook endpoint, oldest first, on one page (`next` is always null); secrets are "
        "never shown again after creation.",
        parameters=[ReadParams],
        responses={200: EndpointPage, **errors(400, 503)},
    )
    def get(self, request):
        endpoints = WebhookEndpoint.objects.using(read_alias()).order_by("pk")
        return Response({"results": EndpointOutput(endpoints, many=True).data, "next": None})


class WebhookCreateApi(WebhookCommandApi):
    @_documented(
        summary="Add a webhook endpoint",
        description="Adds an endpoint that receives a signed `POST` for every event of its `event_types` (all "
        "types when empty), each order's events in version order, retried with backoff for 3 days until a 2xx. "
        "The `url` must be `https` and resolve to public addresses, else a 400 `validation_error` naming `url`; "
        "`enabled: false` creates it paused. Answers 201 with the endpoint, its `Location` and its signing "
        "`secret`, shown only here: keep it to verify signatures. You become its owner: its payloads carry "
        "contact data only while you hold `orders_write.manage_orders` or `orders_write.manage_catalog`.",
        request=EndpointInput,
        responses={201: CreatedOutput, **errors(400)},
        headers=[*CHANGE_HEADERS, LOCATION],
    )
    def post(self, request):
        data = _validated(EndpointInput, request.data)
        try:
            endpoint, secret = services.endpoint_create(
                url=data["url"], event_types=data["event_types"], description=data["description"], actor=request.user
            )
        except TargetRefused as refused:
            raise _refused(refused) from None
        if data.get("enabled") is False:
            services.endpoint_change(endpoint=endpoint, actor=request.user, enabled=False)
        response = Response({**EndpointOutput(endpoint).data, "secret": secret}, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(
            reverse("api:webhook-detail", kwargs={"webhook_id": endpoint.pk})
        )
        add_never_cache_headers(response)  # the secret: kept by no cache on the way
        return response


class WebhookDetailApi(WebhookQueryApi):
    @_documented(
        summary="One webhook endpoint",
        description="One endpoint, without its secret: its URL, event types, description, whether it is "
        "enabled (and if not, why), and since when its deliveries have been failing.",
        responses={200: EndpointOutput, **errors(400, 404)},
    )
    def get(self, request, webhook_id: int):
        return Response(EndpointOutput(_endpoint(webhook_id)).data)


class WebhookChangeApi(WebhookCommandApi):
    @_documented(
        summary="Change a webhook endpoint",
        description="Changes any of `url`, `event_types`, `description` and `enabled`; a new `url` is checked "
        "as on creation (a 400 `validation_error` naming `url`). Re-enabling an endpoint gives it a fresh "
        "start. You become its owner: deliveries still to be sent carry contact data only if you hold "
        "`orders_write.manage_orders` or `orders_write.manage_catalog`.",
        request=EndpointInput(partial=True),
        responses={200: EndpointOutput, **errors(400, 404)},
        headers=CHANGE_HEADERS,
    )
    def patch(self, request, webhook_id: int):
        endpoint = _endpoint(webhook_id)
        data = _validated(EndpointInput, request.data, partial=True)
        changes = {
            name: data[name] for name in ("url", "event_types", "description", "enabled") if name in request.data
        }
        try:
            services.endpoint_change(endpoint=endpoint, actor=request.user, **changes)
        except TargetRefused as refused:
            raise _refused(refused) from None
        return Response(EndpointOutput(endpoint).data)


class WebhookDeleteApi(WebhookCommandApi):
    @_documented(
        summary="Delete a webhook endpoint and its delivery log",
        description="Deletes the endpoint and its delivery log; nothing more is sent to it. Answers 204.",
        responses={204: None, **errors(400, 404)},
        headers=CHANGE_HEADERS,
    )
    def delete(self, request, webhook_id: int):
        services.endpoint_delete(endpoint=_endpoint(webhook_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretApi(WebhookCommandApi):
    @_documented(
        summary="Rotate the signing secret (the old one signs too for 24 h)",
        description="Gives the endpoint a new signing secret, shown only in this answer. For 24 hours each "
        "delivery is signed with the old secret too, so a receiver can switch to the new one without rejecting "
        "a delivery.",
        request=None,
        responses={200: RotatedOutput, **errors(400, 404)},
        headers=CHANGE_HEADERS,
    )
    def post(self, request, webhook_id: int):
        endpoint = _endpoint(webhook_id)
        secret = services.endpoint_rotate_secret(endpoint=endpoint)
        response = Response(
            {
                **EndpointOutput(endpoint).data,
                "secret": secret,
                "previous_secret_expires_at": endpoint.previous_secret_expires_at,
            }
        )
        add_never_cache_headers(response)
        return response


class WebhookDropPreviousSecretApi(WebhookCommandApi):
    @_documented(
        summary="Stop signing with the secret the last rotation replaced, now",
        description="Drops the previous signing secret at once instead of when its 24 hours end, for a secret "
        "that leaked: within one delivery round (a few seconds) no delivery carries a signature made with it.",
        request=None,
        responses={200: EndpointOutput, **errors(400, 404)},
        headers=CHANGE_HEADERS,
    )
    def post(self, request, webhook_id: int):
        endpoint = services.endpoint_drop_previous_secret(endpoint=_endpoint(webhook_id))
        return Response(EndpointOutput(endpoint).data)


class DeliveryParams(ClosedInput):
    status = serializers.ChoiceField(required=False, choices=[state for state, _ in WebhookDelivery.STATES])
    cursor = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_BIGINT, help_text="From the previous page's `next`."
    )


class WebhookDeliveriesApi(WebhookQueryApi):
    @_documented(
        summary="An endpoint's deliveries, newest first",
        description=f"The endpoint's deliveries, newest first, {DELIVERY_PAGE} a page (follow `next`), optionally "
        "only those in one `status`: each with its event, attempts, the receiver's last status code, duration "
        "and error, and when the next attempt is due.",
        parameters=[DeliveryParams],
        responses={200: DeliveryPage, **errors(400, 404)},
    )
    def get(self, request, webhook_id: int):
        endpoint = _endpoint(webhook_id)
        params = _validated(DeliveryParams, request.query_params)
        deliveries = WebhookDelivery.objects.using(read_alias()).filter(endpoint=endpoint).defer("body").order_by("-id")
        if "status" in params:
            deliveries = deliveries.filter(state=params["status"])
        if "cursor" in params:
            deliveries = deliveries.filter(id__lt=params["cursor"])
        page = list(deliveries[: DELIVERY_PAGE + 1])
        next_url = None
        if len(page) > DELIVERY_PAGE:
            page = page[:DELIVERY_PAGE]
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", page[-1].pk)
        return Response({"results": DeliveryOutput(page, many=True).data, "next": next_url})


class WebhookDeliveryResendApi(WebhookCommandApi):
    @_documented(
        summary="Send one delivery again",
        description="Queues one delivery of this endpoint to be sent again now, whatever its status; answers "
        "202. A delivery of another endpoint is a 404 `not_found`.",
        request=None,
        responses={202: None, **errors(400, 404)},
        headers=CHANGE_HEADERS,
    )
    def post(self, request, webhook_id: int, delivery_id: int):
        endpoint = _endpoint(webhook_id)
        delivery = WebhookDelivery.objects.using(read_alias()).filter(endpoint=endpoint, pk=delivery_id).first()
        if delivery is None:
            raise Http404
        services.delivery_resend(delivery=delivery)
        return Response(
            {"delivery_id": delivery.pk, "status": WebhookDelivery.PENDING}, status=status.HTTP_202_ACCEPTED
        )


class ReplayInput(ClosedInput):
    from_position = serializers.IntegerField(required=False, min_value=0, max_value=MAX_BIGINT)
    from_time = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if ("from_position" in attrs) == ("from_time" in attrs):
            raise ValidationError({"from_position": ["give exactly one of from_position and from_time"]})
        return attrs


class WebhookReplayApi(WebhookCommandApi):
    @_documented(
        summary="Send an endpoint every event again from a position or a time (done in the background)",
        description="Records a replay of every event the endpoint subscribes to, from `from_position` or from "
        "`from_time` on (exactly one of them, else a 400 `validation_error`), and answers 202 with its "
        "`replay_id` at once; the delivery worker then queues the events again a page at a time. Each order's "
        "events are still sent in version order, and receivers see them again (dedupe by the `webhook-id` header).",
        request=ReplayInput,
        responses={202: ReplayOutput, **errors(400, 404)},
        headers=CHANGE_HEADERS,
    )
    def post(self, request, webhook_id: int):
        endpoint = _endpoint(webhook_id)
        data = _validated(ReplayInput, request.data)
        replay = services.endpoint_replay(
            endpoint=endpoint, from_position=data.get("from_position"), from_time=data.get("from_time")
        )
        return Response(ReplayOutput(replay).data, status=status.HTTP_202_ACCEPTED)
