"""Turn integer minor units and ratios into the text people read on the dashboard.

Amounts stay integers of minor units everywhere else (ADR 0005); only here, at the last step,
do they become "€1,234.56". The charts format in the browser with ``Intl.NumberFormat`` and
the same number of decimals, which ``currency_exponent`` hands them.
"""

from django.conf import settings

from config.money import MINUS, NO_VALUE, currency_exponent, money, sign

__all__ = ["MINUS", "NO_VALUE", "currency_exponent", "money", "number", "percent", "shop_currency"]


def shop_currency() -> str:
    return settings.SHOP_CURRENCY


def number(value: int, *, signed: bool = False) -> str:
    return f"{sign(value, signed)}{abs(value):,}"


def percent(value: float, *, signed: bool = False, unit: str = "%") -> str:
    """Format a percentage with one decimal, e.g. ``12.5 %``; ``unit="pp"`` for percentage points."""
    rounded = round(value, 1)
    return f"{sign(rounded, signed)}{abs(rounded):,.1f}\u00a0{unit}"
