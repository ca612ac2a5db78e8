"""The HTML reporting dashboard at ``/dashboard/``: KPIs, charts, rankings, CSV exports, health.

It lives in the read side because it reads only what the read side serves: the selectors in
``orders_read.queries`` over the read tables, plus the projections' own health and watermark
(which say how current those tables are). It never touches a write-side table.
"""
