"""Where each projection has got to in the outbox, kept beside the rows it writes.

The checkpoint row is updated in the same transaction as the read-table rows of a batch, so
after any crash the tables and the checkpoint agree: nothing applied twice, nothing lost. The
row is also the projection's drain lock (``SELECT … FOR UPDATE SKIP LOCKED``) and heartbeat.
"""

from django.db import models


class Checkpoint(models.Model):
    projection = models.CharField(max_length=64, primary_key=True)
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
