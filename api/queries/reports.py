"""Sales reports over a range of UTC days, and the health of every projection."""

from datetime import date, timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api.base import QueryApi, ReadParams
from api.permissions import any_of
from api.schema import QUERY_HEADERS, errors
from config.limits import MAX_PAGE_SIZE, MAX_RANGE_DAYS, MAX_SUMMARY_RANGE_DAYS
from config.rights import MANAGE_PROJECTIONS, VIEW_REPORTS
from events import OrderStatus
from orders_read import queries
from orders_read.models import (
    CustomerSales,
    CustomerSalesMonth,
    CustomerSalesYear,
    CustomerStats,
    DailySales,
    MonthlySales,
    OrderStatusDay,
    OrderStatusMonth,
    ProductSales,
    ProductSalesMonth,
)
from projections.runtime.registry import consumers
from projections.runtime.status import State, consumer_health, redact_failures

DEFAULT_RANGE_DAYS = 30
ROLLUPS = (OrderStatusDay, OrderStatusMonth, MonthlySales, ProductSalesMonth, CustomerSalesMonth, CustomerSalesYear)


class RangeParams(ReadParams):
    """``from`` and ``to`` (inclusive UTC days); by default the last 30 days up to today.

    ``max_days`` is the longest range accepted: a year for a daily series or a ranking, ten years
    for the summary (read from monthly rollups, ADR 0021).
    """

    max_days = MAX_RANGE_DAYS

    start = serializers.DateField(required=False, help_text="First UTC day, inclusive (YYYY-MM-DD).")
    end = serializers.DateField(required=False, help_text="Last UTC day, inclusive (YYYY-MM-DD).")

    def get_fields(self):
        # `from` is a Python keyword, so the fields are declared as start/end and renamed here.
        fields = super().get_fields()
        fields["from"], fields["to"] = fields.pop("start"), fields.pop("end")
        return fields

    def validate(self, attrs):
        end = attrs.pop("to", None) or timezone.now().date()
        start = attrs.pop("from", None) or end - min(timedelta(days=DEFAULT_RANGE_DAYS - 1), end - date.min)
        if start > end:
            raise serializers.ValidationError({"from": ["must not be after to"]})
        if (end - start).days + 1 > self.max_days:
            raise serializers.ValidationError({"from": [f"a range spans at most {self.max_days} days"]})
        return {**attrs, "start": start, "end": end}


class SummaryParams(RangeParams):
    max_days = MAX_SUMMARY_RANGE_DAYS


class RankingParams(RangeParams):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=10)


class ReportApi(QueryApi):
    permission_classes = [any_of(VIEW_REPORTS)]
    reads = (DailySales, ProductSales, CustomerSales, CustomerStats, *ROLLUPS)


def _documented(summary: str, description: str, response, params=RangeParams):
    max_days = params.max_days
    return extend_schema(
        summary=summary,
        description=f"{description}\n\nThe range is the UTC days `from` to `to`, both included (by default the "
        f"last {DEFAULT_RANGE_DAYS} days up to today), at most {max_days} days; a longer range, or `from` after "
        "`to`, is a 400 `validation_error` naming `from`.",
        parameters=[params, *QUERY_HEADERS],
        responses={200: response, **errors(400, 503)},
        tags=["reports"],
    )


class Totals(serializers.Serializer):
    orders = serializers.IntegerField(help_text="Placed in the range, cancelled ones included.")
    cancellations = serializers.IntegerField()
    revenue = serializers.IntegerField(help_text="Sum of totals of non-cancelled orders, minor units.")
    discount_total = serializers.IntegerField()
    average_order_value = serializers.IntegerField()


class SummaryOutput(Totals):
    start = serializers.DateField()
    end = serializers.DateField()
    orders_by_status = serializers.DictField(
        child=serializers.IntegerField(), help_text=f"Keys: {', '.join(s.value for s in OrderStatus)}."
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"], fields["to"] = fields.pop("start"), fields.pop("end")
        return fields


class SummaryApi(ReportApi):
    params_class = SummaryParams

    @_documented(
        f"Orders, revenue, average order value and orders by status (ranges up to {MAX_SUMMARY_RANGE_DAYS} days)",
        "Totals of the range: orders placed (cancelled ones included), cancellations, revenue (the totals of "
        "the orders not cancelled, in minor units), discounts, the average order value, and the orders placed "
        "in the range by their current status.",
        SummaryOutput,
        SummaryParams,
    )
    def get(self, request):
        start, end = self.params["start"], self.params["end"]
        return Response({"from": start, "to": end, **queries.sales_summary(start=start, end=end)})


class DayOutput(Totals):
    day = serializers.DateField()


class DailySalesOutput(serializers.Serializer):
    results = DayOutput(many=True)
    next = serializers.URLField(allow_null=True)


class DailySalesApi(ReportApi):
    params_class = RangeParams

    @_documented(
        "One row per UTC day of the range, zeros included",
        "The summary's totals for each UTC day of the range, oldest first; a day without orders is a row of "
        "zeros. One page (`next` is always null).",
        DailySalesOutput,
    )
    def get(self, request):
        rows = queries.daily_sales_series(start=self.params["start"], end=self.params["end"])
        return Response({"results": rows, "next": None})


class ProductRankOutput(serializers.Serializer):
    sku = serializers.CharField()
    product_name = serializers.CharField()
    units = serializers.IntegerField()
    revenue = serializers.IntegerField(help_text="Line revenue before order discounts.")


class TopProductsOutput(serializers.Serializer):
    results = ProductRankOutput(many=True)
    next = serializers.URLField(allow_null=True)


class TopProductsApi(ReportApi):
    params_class = RankingParams

    @_documented(
        "Products with the most revenue in the range",
        f"The `limit` (10 by default, at most {MAX_PAGE_SIZE}) products with the most line revenue (before "
        "order discounts) in the range, best first, with the units sold.",
        TopProductsOutput,
        RankingParams,
    )
    def get(self, request):
        params = self.params
        rows = queries.top_products(start=params["start"], end=params["end"], limit=params["limit"])
        return Response({"results": rows, "next": None})


class CustomerRankOutput(serializers.Serializer):
    customer_id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    orders = serializers.IntegerField()
    revenue = serializers.IntegerField()


class TopCustomersOutput(serializers.Serializer):
    results = CustomerRankOutput(many=True)
    next = serializers.URLField(allow_null=True)


class TopCustomersApi(ReportApi):
    params_class = RankingParams

    @_documented(
        "Customers with the most revenue in the range",
        f"The `limit` (10 by default, at most {MAX_PAGE_SIZE}) customers with the most revenue in the range, "
        "best first, with their number of orders.",
        TopCustomersOutput,
        RankingParams,
    )
    def get(self, request):
        params = self.params
        rows = queries.top_customers(start=params["start"], end=params["end"], limit=params["limit"])
        return Response({"results": rows, "next": None})


class ProjectionOutput(serializers.Serializer):
    name = serializers.CharField()
    position = serializers.IntegerField(help_text="Position of the last event applied.")
    head = serializers.IntegerField(help_text="Highest position in the outbox.")
    lag_events = serializers.IntegerField()
    lag_seconds = serializers.FloatField(help_text="Age of the oldest event not yet applied.")
    events_applied = serializers.IntegerField()
    last_applied_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    parked = serializers.IntegerField(help_text="Streams held back after repeated failures.")
    last_error = serializers.CharField(
        allow_null=True, help_text="The newest parked stream's error; null unless you hold manage_projections."
    )
    state = serializers.ChoiceField(
        choices=[state.value for state in State],
        help_text="restored: still applying what a restored database holds; unreachable_events: the database "
        "cluster was never registered, so new events cannot be read in order (operators: see the operations guide).",
    )
    kind = serializers.ChoiceField(choices=["projection", "relay"])
    timeline = serializers.IntegerField(help_text="The database cluster (outbox timeline) the position was taken on.")
    current_timeline = serializers.IntegerField(help_text="The timeline new events are written on.")


class ProjectionsOutput(serializers.Serializer):
    results = ProjectionOutput(many=True)
    next = serializers.URLField(allow_null=True)


class ProjectionsApi(ReportApi):
    params_class = ReadParams

    def projections_behind(self) -> tuple[str, ...]:
        return tuple(consumers())

    @extend_schema(
        summary="Health of every projection: position, lag, heartbeat, state",
        description="How far each consumer of the event log has got (the projections that fill the read side, "
        "and the relays that pass events on): the position it has applied and the newest one, its lag in events "
        "and seconds, its last heartbeat, its parked streams (held back after repeated failures) and its state. "
        f"`last_error` is null unless you also hold `{MANAGE_PROJECTIONS}`.",
        parameters=[ReadParams, *QUERY_HEADERS],
        responses={200: ProjectionsOutput, **errors(400, 503)},
        tags=["reports"],
    )
    def get(self, request):
        rows = redact_failures(consumer_health(), request.user)
        return Response({"results": [row.as_dict() for row in rows], "next": None})
