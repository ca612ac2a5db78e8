"""The REST API: an HTTP adapter over both sides, owning neither.

Command views call ``orders_write.services`` (never the models); query views call
``orders_read.queries`` and the projections' read helpers (never a write table). Keeping the
adapter in its own package lets the read and write sides stay ignorant of each other and of HTTP.
"""
