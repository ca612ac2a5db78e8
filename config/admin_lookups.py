"""Admin change lists filter only by the exact query-string lookups each one names (ADR 0023).

Django's ``ModelAdmin.lookup_allowed`` accepts any lookup on a model's own fields through the
URL: ``?name__regex=^a`` or ``?email__icontains=x`` runs a full scan of a write table for anyone
with view rights. Every admin here derives from ``AllowListedLookups`` and names its parameters
in full (its list filters' and its date drill-down's); anything else is refused with 400.
"""

from typing import Any


def exact(*fields: str) -> frozenset[str]:
    """The parameters of Django's field list filters on ``fields`` (choices, booleans, values)."""
    return frozenset(name for field in fields for name in (field, f"{field}__exact", f"{field}__isnull"))


def dates(*fields: str) -> frozenset[str]:
    """The parameters of a date filter (``__gte``/``__lt``) and a ``date_hierarchy`` on indexed ``fields``."""
    suffixes = ("gte", "lt", "isnull", "year", "month", "day")
    return frozenset(f"{field}__{suffix}" for field in fields for suffix in suffixes)


class AllowListedLookups:
    """A ``ModelAdmin`` mixin: only the parameters in ``allowed_lookups`` filter its change list."""

    allowed_lookups: frozenset[str] = frozenset()

    def lookup_allowed(self, lookup: str, value: Any, request: Any = None) -> bool:
        return lookup in self.allowed_lookups
