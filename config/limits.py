"""The numeric bounds more than one door states, each defined once and with the reason it exists.

The write side enforces its rules itself (the services, and CHECK constraints behind them); the
API's schema, the staff admin's forms and the read side's parsers repeat the same numbers, so a
value one door accepts is never refused by another and a value no column can hold is turned away
(400, or "not found") before it reaches the database, where it would be an overflow error (500).

The module imports nothing, so every package may import it: the read side (which never imports
the write side), the write side, the projections and the API alike (the import-linter contracts
keep domain packages from ``config.settings`` and ``config.urls`` only).
"""

# Storage ------------------------------------------------------------------------------------

# Ids (customers, products, orders) and outbox positions are BIGINT: signed 64-bit on PostgreSQL
# and SQLite. A larger number names no row; parsed input above it is refused or answered
# "not found" without a query.
MAX_BIGINT = 2**63 - 1

# Aggregate versions (and so ``expected_version``, ``If-Match`` and ``ETag``) are INTEGER
# columns: signed 32-bit on PostgreSQL.
MAX_VERSION = 2**31 - 1

# The order rules (docs/architecture.md, "Rules every door obeys") -----------------------

# The dearest product, in minor units: one million units of the currency.
MAX_PRICE = 100_000_000

# Units of one product on one line.
MAX_QUANTITY = 999

# Lines on one order (one per sku). Every change to an order re-totals all of its lines, and
# ``OrderPlaced`` and the read side's order views carry them all: this bounds the work and the
# size of one order everywhere.
MAX_LINES = 100

# A percentage discount; an amount discount may never exceed the subtotal either (total >= 0).
MAX_DISCOUNT_PERCENT = 100

# The largest subtotal any order can reach, so the largest discount amount worth accepting:
# about 10**13 minor units, far inside BIGINT and inside the integers JSON clients hold exactly (2**53).
MAX_DISCOUNT_AMOUNT = MAX_PRICE * MAX_QUANTITY * MAX_LINES

# Reads ----------------------------------------------------------------------------------------

# The longest range of UTC days a report covers (API, dashboard, admin sales pages): a year,
# leap day included. A daily series is one row per day and the day tables are read one row per
# day (and product or customer), so this bounds both the answer and the rows read.
MAX_RANGE_DAYS = 366

# The longest range a summary covers (the API's ``/reports/summary/``, the dashboard): ten years,
# leap days included. Totals, status counts and rankings are read from whole months (and years)
# plus the edge days (ADR 0021), so this bounds the rows read at about 120 months.
MAX_SUMMARY_RANGE_DAYS = 3653

# The most rows one list read returns (order lists, a customer's recent orders, the rankings,
# the dashboard's CSV exports): each is one index range read, kept short.
MAX_PAGE_SIZE = 100

# Staff admin ----------------------------------------------------------------------------------

# Rows one admin action (confirm, deactivate, retire, ...) may change: each is a service call of
# its own, one transaction each, all inside one HTTP request that must finish in time.
MAX_ROWS_PER_ADMIN_ACTION = 200
