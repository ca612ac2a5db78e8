"""Turn integer minor units into the text people read, the one way every page does it.

Amounts stay integers of minor units everywhere (ADR 0005); only at the last step, in the admin
and on the dashboard, do they become "€1,234.56", without ever passing through a float.
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
NO_VALUE = "\u2013"  # an en dash: nothing to show


def currency_exponent(currency: str) -> int:
    """Return how many decimals the currency's minor unit has (2 for EUR: cents)."""
    return _EXPONENTS.get(currency, 2)


def money(amount: int | None, currency: str | None = None, *, signed: bool = False) -> str:
    """Format minor units, e.g. ``123456, "EUR"`` as ``€1,234.56`` (the shop currency by default)."""
    if amount is None:
        return NO_VALUE
    currency = currency or settings.SHOP_CURRENCY
    exponent = currency_exponent(currency)
    units, minor = divmod(abs(amount), 10**exponent)
    digits = f"{units:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = _SYMBOLS.get(currency, f"{currency}\u00a0")
    return f"{sign(amount, signed)}{symbol}{digits}"


def sign(value: float, signed: bool) -> str:
    """Return the sign to print before ``value``: a true minus, and ``+`` when ``signed``."""
    if value < 0:
        return MINUS
    return "+" if signed and value > 0 else ""
