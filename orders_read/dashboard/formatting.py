"""Turn integer minor units and ratios into the text people read on the dashboard.

Amounts stay integers of minor units everywhere else (ADR 0005); only here, at the last step,
do they become "€1,234.56". The charts format in the browser with ``Intl.NumberFormat`` and
the same number of decimals, which ``currency_exponent`` hands them.
"""

from django.conf import settings

# ISO 4217 minor-unit exponents that differ from the usual 2.
_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND"), 0),
    **dict.fromkeys(("VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF\u00a0"}
MINUS = "\u2212"
NO_VALUE = "\u2013"  # an en dash: nothing to show (no orders, so no rate)


def shop_currency() -> str:
    return settings.SHOP_CURRENCY


def currency_exponent(currency: str) -> int:
    """Return how many decimals the currency's minor unit has (2 for EUR: cents)."""
    return _EXPONENTS.get(currency, 2)


def money(amount: int, currency: str, *, signed: bool = False) -> str:
    """Format minor units as an amount, e.g. ``123456, "EUR"`` as ``€1,234.56``."""
    exponent = currency_exponent(currency)
    units, minor = divmod(abs(amount), 10**exponent)
    digits = f"{units:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = _SYMBOLS.get(currency, f"{currency}\u00a0")
    return f"{_sign(amount, signed)}{symbol}{digits}"


def number(value: int, *, signed: bool = False) -> str:
    return f"{_sign(value, signed)}{abs(value):,}"


def percent(value: float, *, signed: bool = False, unit: str = "%") -> str:
    """Format a percentage with one decimal, e.g. ``12.5 %``; ``unit="pp"`` for percentage points."""
    rounded = round(value, 1)
    return f"{_sign(rounded, signed)}{abs(rounded):,.1f}\u00a0{unit}"


def _sign(value: float, signed: bool) -> str:
    if value < 0:
        return MINUS
    return "+" if signed and value > 0 else ""
