"""A ``date_hierarchy`` drill-down that costs one index lookup, however big the table.

Django's own runs ``SELECT DISTINCT date_trunc(…)`` over every row the list matches: on the
first page of a million-order table, a full scan. This one asks only for the first and the
last date of the current selection (``MIN``/``MAX``, which PostgreSQL answers from the two ends
of the date index) and offers every year, month or day between them; a period without rows
simply lists nothing. It fills Django's own ``admin/date_hierarchy.html``.
"""

from datetime import date, datetime
from typing import Any

from django.db.models import Max, Min
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _


def date_navigation(cl: Any) -> dict[str, Any]:
    """Return the ``date_hierarchy.html`` context for change list ``cl`` (one query at most)."""
    field = cl.date_hierarchy
    year_field, month_field, day_field = f"{field}__year", f"{field}__month", f"{field}__day"
    year, month, day = (cl.params.get(name) for name in (year_field, month_field, day_field))

    def link(filters: dict[str, Any]) -> str:
        return cl.get_query_string(filters, [f"{field}__"])

    if year and month and day:
        chosen = date(int(year), int(month), int(day))
        return {
            "show": True,
            "back": {"link": link({year_field: year, month_field: month}), "title": _month_title(chosen)},
            "choices": [{"title": capfirst(formats.date_format(chosen, "MONTH_DAY_FORMAT"))}],
        }
    bounds = cl.queryset.aggregate(first=Min(field), last=Max(field))
    first, last = (_as_date(bounds["first"]), _as_date(bounds["last"]))
    if not year:
        if first is None:
            return {"show": False}
        month = None  # a month means nothing without its year (Django ignores it too)
        if first.year == last.year:  # one year (and maybe one month): start lower, as Django does
            year = first.year
            month = first.month if first.month == last.month else None
    if year and month:
        days = [] if first is None else [first.replace(day=number) for number in range(first.day, last.day + 1)]
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: each.day}),
                    "title": capfirst(formats.date_format(each, "MONTH_DAY_FORMAT")),
                }
                for each in days
            ],
        }
    if year:
        months = [] if first is None else [date(int(year), number, 1) for number in range(first.month, last.month + 1)]
        return {
            "show": True,
            "back": {"link": link({}), "title": _("All dates")},
            "choices": [
                {"link": link({year_field: year, month_field: each.month}), "title": _month_title(each)}
                for each in months
            ],
        }
    return {
        "show": True,
        "back": None,
        "choices": [
            {"link": link({year_field: each}), "title": str(each)} for each in range(first.year, last.year + 1)
        ],
    }


def _as_date(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return value


def _month_title(day: date) -> str:
    return capfirst(formats.date_format(day, "YEAR_MONTH_FORMAT"))
