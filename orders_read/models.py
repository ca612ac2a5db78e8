"""Django models over the read tables, so selectors and the admin can query them with the ORM.

The tables belong to the read side's own migrations (hand-written DDL in ``RunSQL``, the same on
PostgreSQL and SQLite) and are filled only by ``projections``, with raw-SQL upserts; hence
``managed = False`` and explicit ``db_table`` names. Column names are a contract with the
projections, so renaming a field here means a migration and a projection change together.
Raw-SQL writers must adapt timestamps with ``connection.ops.adapt_datetimefield_value()``: on
SQLite they are text, and only the ORM's own format compares correctly with the selectors' filters.
Which index serves which query is written down in ``docs/decisions/0007-read-tables.md``.
"""

from django.db import models

from config.rights import VIEW_REPORTS, codename


class OrderSummary(models.Model):
    """One row per order: everything a list or a detail header shows, denormalised."""

    order_id = models.BigIntegerField(primary_key=True)
    customer_id = models.BigIntegerField()
    customer_name = models.CharField(max_length=200)
    status = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    subtotal = models.BigIntegerField()
    discount = models.BigIntegerField()
    total = models.BigIntegerField()
    item_count = models.IntegerField()
    line_count = models.IntegerField()
    last_item = models.CharField(max_length=200, help_text="Product name of the most recently added line.")
    tracking_number = models.CharField(max_length=64, blank=True, default="")
    version = models.IntegerField()
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "order_summary"
        verbose_name = "order summary"
        verbose_name_plural = "order summaries"
        permissions = [(codename(VIEW_REPORTS), "Can view sales reports and projection health")]

    def __str__(self) -> str:
        return f"Order {self.order_id} ({self.status})"


class OrderLineView(models.Model):
    """One row per line of an order, for the order detail."""

    pk = models.CompositePrimaryKey("order_id", "sku")
    order_id = models.BigIntegerField()
    sku = models.CharField(max_length=64)
    product_id = models.BigIntegerField()
    product_name = models.CharField(max_length=200)
    quantity = models.IntegerField()
    unit_price = models.BigIntegerField()
    line_total = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "order_line_view"
        verbose_name = "order line"

    def __str__(self) -> str:
        return f"Order {self.order_id}: {self.quantity} x {self.sku}"


class CustomerStats(models.Model):
    """One row per customer: identity plus running order statistics."""

    customer_id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    email = models.CharField(max_length=254)
    is_active = models.BooleanField()
    order_count = models.IntegerField(default=0)
    cancelled_count = models.IntegerField(default=0)
    lifetime_value = models.BigIntegerField(default=0, help_text="Sum of the totals of non-cancelled orders.")
    last_order_at = models.DateTimeField(null=True, blank=True)
    version = models.IntegerField(help_text="Version of the customer aggregate last applied.")

    class Meta:
        managed = False
        db_table = "customer_stats"
        verbose_name = "customer statistics"
        verbose_name_plural = "customer statistics"

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_id})"


class DailySales(models.Model):
    """One row per UTC day of placement: counts and money of the orders placed that day."""

    day = models.DateField(primary_key=True)
    orders = models.IntegerField(help_text="Orders placed that day, cancelled ones included.")
    revenue = models.BigIntegerField(help_text="Sum of the current totals of that day's non-cancelled orders.")
    cancellations = models.IntegerField(help_text="Orders placed that day and cancelled since.")
    discount_total = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "daily_sales"
        verbose_name = "daily sales"
        verbose_name_plural = "daily sales"

    def __str__(self) -> str:
        return f"Sales on {self.day}"


class ProductSales(models.Model):
    """Units and line revenue per product and UTC day of placement (non-cancelled orders)."""

    pk = models.CompositePrimaryKey("day", "sku")
    day = models.DateField()
    sku = models.CharField(max_length=64)
    product_name = models.CharField(max_length=200)
    units = models.IntegerField()
    revenue = models.BigIntegerField(help_text="Sum of line totals, before order discounts.")

    class Meta:
        managed = False
        db_table = "product_sales"
        verbose_name = "product sales"
        verbose_name_plural = "product sales"

    def __str__(self) -> str:
        return f"{self.sku} on {self.day}"


class CustomerSales(models.Model):
    """Orders and revenue per customer and UTC day of placement (non-cancelled orders)."""

    pk = models.CompositePrimaryKey("day", "customer_id")
    day = models.DateField()
    customer_id = models.BigIntegerField()
    orders = models.IntegerField()
    revenue = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "customer_sales"
        verbose_name = "customer sales"
        verbose_name_plural = "customer sales"

    def __str__(self) -> str:
        return f"Customer {self.customer_id} on {self.day}"


# Rollups (projections/reports.py, ADR 0021) ----------------------------------------------------
# Sums over the orders of a UTC day, month or year, so that a report over any range reads a number
# of rows bounded by the days and months in it, never by its orders. Each equals the same figure
# computed from ``order_summary`` and the per-day tables above (verify_projections checks it).
# ``month`` is the first day of its month, ``year`` the first day of its year.


class OrderStatusDay(models.Model):
    """Orders placed on a UTC day, by their current status (moved on every transition)."""

    pk = models.CompositePrimaryKey("day", "status")
    day = models.DateField()
    status = models.CharField(max_length=16)
    orders = models.IntegerField()

    class Meta:
        managed = False
        db_table = "order_status_day"
        verbose_name = "orders by day and status"
        verbose_name_plural = "orders by day and status"

    def __str__(self) -> str:
        return f"{self.status} on {self.day}"


class OrderStatusMonth(models.Model):
    """Orders placed in a UTC month, by their current status."""

    pk = models.CompositePrimaryKey("month", "status")
    month = models.DateField()
    status = models.CharField(max_length=16)
    orders = models.IntegerField()

    class Meta:
        managed = False
        db_table = "order_status_month"
        verbose_name = "orders by month and status"
        verbose_name_plural = "orders by month and status"

    def __str__(self) -> str:
        return f"{self.status} in {self.month:%Y-%m}"


class MonthlySales(models.Model):
    """``daily_sales`` summed over a UTC month."""

    month = models.DateField(primary_key=True)
    orders = models.IntegerField()
    revenue = models.BigIntegerField()
    cancellations = models.IntegerField()
    discount_total = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "monthly_sales"
        verbose_name = "monthly sales"
        verbose_name_plural = "monthly sales"

    def __str__(self) -> str:
        return f"Sales in {self.month:%Y-%m}"


class ProductSalesMonth(models.Model):
    """``product_sales`` summed over a UTC month (non-cancelled orders)."""

    pk = models.CompositePrimaryKey("month", "sku")
    month = models.DateField()
    sku = models.CharField(max_length=64)
    product_name = models.CharField(max_length=200)
    units = models.IntegerField()
    revenue = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "product_sales_month"
        verbose_name = "product sales by month"
        verbose_name_plural = "product sales by month"

    def __str__(self) -> str:
        return f"{self.sku} in {self.month:%Y-%m}"


class CustomerSalesMonth(models.Model):
    """``customer_sales`` summed over a UTC month."""

    pk = models.CompositePrimaryKey("month", "customer_id")
    month = models.DateField()
    customer_id = models.BigIntegerField()
    orders = models.IntegerField()
    revenue = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "customer_sales_month"
        verbose_name = "customer sales by month"
        verbose_name_plural = "customer sales by month"

    def __str__(self) -> str:
        return f"Customer {self.customer_id} in {self.month:%Y-%m}"


class CustomerSalesYear(models.Model):
    """``customer_sales`` summed over a UTC year: a customer ranking over a year reads one row per customer."""

    pk = models.CompositePrimaryKey("year", "customer_id")
    year = models.DateField()
    customer_id = models.BigIntegerField()
    orders = models.IntegerField()
    revenue = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "customer_sales_year"
        verbose_name = "customer sales by year"
        verbose_name_plural = "customer sales by year"

    def __str__(self) -> str:
        return f"Customer {self.customer_id} in {self.year:%Y}"
