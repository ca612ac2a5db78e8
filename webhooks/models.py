"""Webhook endpoints and their durable delivery queue (ADR 0020).

Both live in the read database, beside the consumer checkpoints: the ``webhooks`` relay's fan-out
inserts one ``WebhookDelivery`` per (endpoint, event) in the same transaction that moves its
checkpoint, so an event is queued for every endpoint exactly once, however the drain is retried.
A delivery's stream is (endpoint, aggregate): only the lowest pending ``aggregate_version`` of a
stream is ever attempted, so an order's events arrive in version order and a failing one holds
back only that order for that endpoint.
"""

from django.db import models

from config.rights import MANAGE_WEBHOOKS, VIEW_EVENTS, codename
from webhooks.secrets_at_rest import decrypt_secret, encrypt_secret


class EncryptedSecretField(models.TextField):
    """A signing secret: plain on the model (to sign), a Fernet token in the column (ADR 0020)."""

    def from_db_value(self, value, expression, connection):
        return decrypt_secret(value) if value is not None else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt_secret(value) if value is not None else value


class WebhookEndpoint(models.Model):
    url = models.URLField(max_length=2000)
    event_types = models.JSONField(default=list, blank=True, help_text="Empty: every event type.")
    description = models.CharField(max_length=500, blank=True, default="")
    enabled = models.BooleanField(default=True)
    # The signing secrets (``whsec_…``), encrypted at rest and kept only to sign; never shown after
    # creation, never logged.
    secret = EncryptedSecretField(editable=False)
    previous_secret = EncryptedSecretField(blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.CharField(max_length=500, blank=True, default="", editable=False)
    # Whose rights decide what the endpoint receives: the user who created it or last changed it
    # (a plain id: users live in the default database, endpoints beside the checkpoints). Contact
    # data goes out only while that user holds the contacts right (ADR 0031).
    owner_id = models.IntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "webhook_endpoint"
        permissions = [
            (codename(MANAGE_WEBHOOKS), "Can manage webhook endpoints, their deliveries and replays"),
            (codename(VIEW_EVENTS), "Can read the event feed"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.url}"

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
    STATES = [(PENDING, "pending"), (DELIVERED, "delivered"), (FAILED, "failed")]

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=64)
    position = models.BigIntegerField()
    aggregate_type = models.CharField(max_length=32)
    aggregate_id = models.BigIntegerField()
    aggregate_version = models.IntegerField()
    occurred_at = models.DateTimeField()
    body = models.BinaryField(help_text="The exact bytes sent and signed: public_event_json of the event.")
    state = models.CharField(max_length=16, choices=STATES, default=PENDING)
    attempts = models.IntegerField(default=0)
    first_queued_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    status_code = models.IntegerField(null=True, blank=True)
    duration_ms = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    # The lease of a delivery thread that claimed it (ADR 0027): claimed and committed before the
    # POST, cleared with its outcome; a lease past its time (a crashed deliverer) is claimable again.
    leased_by = models.UUIDField(null=True, blank=True, editable=False)
    leased_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "webhook_delivery"
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="one_delivery_per_event")]
        indexes = [
            models.Index(
                fields=["endpoint", "aggregate_type", "aggregate_id", "aggregate_version"],
                condition=models.Q(state="pending"),
                name="webhook_pending_stream",
            ),
            models.Index(fields=["next_attempt_at"], condition=models.Q(state="pending"), name="webhook_pending_due"),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_log"),
            models.Index(
                fields=["endpoint", "leased_by"], condition=models.Q(leased_by__isnull=False), name="webhook_leased"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.position} → endpoint {self.endpoint_id} ({self.state})"


class WebhookReplay(models.Model):
    """A replay asked for through the API or the admin, done in pages by the deliverer (ADR 0027).

    The request only records it (a 202); ``deliver_webhooks`` walks the log from ``after_*`` a
    page at a time, queueing the page's events and moving the cursor in one transaction, so a
    replay of a long log costs no request more than an insert and survives a restart.
    """

    RUNNING, DONE = "running", "done"
    STATES = [(RUNNING, "running"), (DONE, "done")]

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="replays")
    from_position = models.BigIntegerField(null=True, blank=True)
    from_time = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=STATES, default=RUNNING)
    # Where the walk goes on: the event store's position (timeline, txid, position) read up to.
    after_timeline = models.BigIntegerField(default=1)
    after_txid = models.BigIntegerField(default=0)
    after_position = models.BigIntegerField(default=0)
    queued = models.IntegerField(default=0)
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "webhook_replay"
        indexes = [models.Index(fields=["id"], condition=models.Q(state="running"), name="webhook_replay_running")]

    def __str__(self) -> str:
        return f"replay #{self.pk} for endpoint {self.endpoint_id} ({self.state})"
