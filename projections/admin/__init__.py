"""The projections in the staff admin: their health, their parked streams and the outbox they read.

Health is one page (with the rebuild button); parked streams can be retried or skipped; the
outbox is browsable, never writable. Who may see and who may act: ``projections.admin.access``.
"""

from projections.admin import health, outbox, parked

__all__ = ["health", "outbox", "parked"]
