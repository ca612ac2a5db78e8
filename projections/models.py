"""Where each projection has got to in the outbox, kept beside the rows it writes.

The checkpoint row is updated in the same transaction as the read-table rows of a batch, so
after any crash the tables and the checkpoint agree: nothing applied twice, nothing lost. The
row is also the projection's drain lock (``SELECT … FOR UPDATE SKIP LOCKED``) and heartbeat.
"""

from django.db import models

from config.rights import MANAGE_PROJECTIONS, codename


class Checkpoint(models.Model):
    """One consumer's position (projection or relay); ``projection`` is the consumer's name."""

    projection = models.CharField(max_length=64, primary_key=True)
    # The outbox timeline (cluster) the position was taken on: transaction ids compare only
    # within one (ADR 0017). 1 is the cluster the outbox was created on.
    timeline = models.BigIntegerField(default=1, db_default=1)
    # The last applied event's writing transaction (PostgreSQL xid8 as an integer; 0 on SQLite)
    # and position: the drain resumes strictly after (last_txid, last_position).
    last_txid = models.BigIntegerField(default=0)
    last_position = models.BigIntegerField(default=0)
    events_applied = models.BigIntegerField(default=0)
    last_applied_at = models.DateTimeField(null=True)
    heartbeat_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "projection_checkpoint"

    def __str__(self) -> str:
        return f"{self.projection} @ {self.last_position}"


class ParkedStream(models.Model):
    """One aggregate's events that a projection could not apply, held back from that projection.

    The failing event and every later event of the same aggregate wait here (re-read from the
    outbox on retry), so one poison order never stalls the rest. ``retrying`` streams are
    retried automatically with backoff; after ``MAX_ATTEMPTS`` they become ``parked`` and wait
    for staff (``retry_parked``).
    """

    RETRYING = "retrying"
    PARKED = "parked"

    projection = models.CharField(max_length=64)
    aggregate_type = models.CharField(max_length=32)
    aggregate_id = models.BigIntegerField()
    first_position = models.BigIntegerField()
    state = models.CharField(max_length=16, choices=[(RETRYING, "retrying"), (PARKED, "parked")])
    attempts = models.PositiveIntegerField(default=1)
    error = models.TextField()
    traceback = models.TextField()
    parked_at = models.DateTimeField()
    retry_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "projection_parked_stream"
        constraints = [
            models.UniqueConstraint(fields=["projection", "aggregate_type", "aggregate_id"], name="one_park_per_stream")
        ]
        indexes = [models.Index(fields=["projection", "state", "retry_at"], name="parked_due")]
        # Viewing takes ``orders_read.view_reports``; acting on projections is a right of its own.
        permissions = [(codename(MANAGE_PROJECTIONS), "Can retry or skip parked streams and rebuild projections")]

    def __str__(self) -> str:
        return f"{self.projection}: {self.aggregate_type} {self.aggregate_id} ({self.state})"


class ProjectionHealth(Checkpoint):
    """The admin's "Projection health" page: a view over the checkpoints, with no table of its own.

    A proxy, so the page is listed on the admin index and gets its URL like any model's.
    """

    class Meta:
        proxy = True
        verbose_name = "projection health"
        verbose_name_plural = "projection health"


class OrderViewsCustomer(models.Model):
    """order_views' own record of customer names (DDL in migration 0002; see ``order_views``)."""

    customer_id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    version = models.IntegerField()

    class Meta:
        managed = False
        db_table = "order_views_customer"

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class SalesOrderState(models.Model):
    """What the sales projection has counted per order (DDL in migration 0004; see ``sales``)."""

    order_id = models.BigIntegerField(primary_key=True)
    version = models.IntegerField()
    customer_id = models.BigIntegerField()
    day = models.DateField()
    placed_at = models.DateTimeField()
    cancelled = models.BooleanField()
    total = models.BigIntegerField()
    discount = models.BigIntegerField()
    lines = models.TextField()

    class Meta:
        managed = False
        db_table = "sales_order_state"

    def __str__(self) -> str:
        return f"order {self.order_id} v{self.version}"


class ReportsOrderState(models.Model):
    """What the reports projection has counted per order (DDL in migration 0008; see ``reports``)."""

    order_id = models.BigIntegerField(primary_key=True)
    version = models.IntegerField()
    customer_id = models.BigIntegerField()
    day = models.DateField()
    status = models.CharField(max_length=16)
    total = models.BigIntegerField()
    discount = models.BigIntegerField()
    lines = models.TextField()

    class Meta:
        managed = False
        db_table = "reports_order_state"

    def __str__(self) -> str:
        return f"order {self.order_id} v{self.version}"
