"""The dashboard's date range: named presets, the GET form for a custom range, and the fallback.

Days are UTC, as in the day tables, and ranges are inclusive and at most
``MAX_SUMMARY_RANGE_DAYS`` long, like the API's summary; "all time" starts on the first day with
an order. The figures come from the rollups, so a long range costs a few months' rows (ADR 0021).
Bad input never fails the page: the form shows what is wrong and the dashboard shows the default
preset instead.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils import timezone

from config.limits import MAX_SUMMARY_RANGE_DAYS
from orders_read.queries.rollups import first_sales_day

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
ISO_DAY = "%Y-%m-%d"


@dataclass(frozen=True)
class DayRange:
    """An inclusive range of UTC days."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "DayRange":
        """Return the range of the same length that ends the day before this one starts."""
        return DayRange(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def instants(self) -> tuple[datetime, datetime]:
        """Return the half-open instant range [first day 00:00 UTC, the day after the last 00:00 UTC)."""
        first = datetime.combine(self.start, time.min, tzinfo=UTC)
        return first, first + timedelta(days=self.days)

    def query(self) -> str:
        """Return the ``from=…&to=…`` query string naming this range."""
        return urlencode({"from": self.start.isoformat(), "to": self.end.isoformat()})


def _last(days: int) -> Callable[[date], DayRange]:
    return lambda today: DayRange(today - timedelta(days=days - 1), today)


def _last_month(today: date) -> DayRange:
    end = today.replace(day=1) - timedelta(days=1)
    return DayRange(end.replace(day=1), end)


def _last_12_months(today: date) -> DayRange:
    """From the day after this date a year ago up to today (365 or 366 days)."""
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return DayRange(year_ago + timedelta(days=1), today)


def _all_time(today: date) -> DayRange:
    """From the first day with an order (today when there is none) up to today."""
    first = first_sales_day() or today
    return DayRange(min(max(first, EARLIEST_DAY), today), today)


PRESETS: dict[str, tuple[str, Callable[[date], DayRange]]] = {
    "today": ("Today", _last(1)),
    "last_7_days": ("Last 7 days", _last(7)),
    "last_30_days": ("Last 30 days", _last(30)),
    "this_month": ("This month", lambda today: DayRange(today.replace(day=1), today)),
    "last_month": ("Last month", _last_month),
    "last_90_days": ("Last 90 days", _last(90)),
    "this_year": ("This year", lambda today: DayRange(today.replace(month=1, day=1), today)),
    "last_12_months": ("Last 12 months", _last_12_months),
    "all_time": ("All time", _all_time),
}
DEFAULT_PRESET = "last_30_days"
DEFAULT_SPAN_DAYS = 30


def today_utc() -> date:
    return timezone.now().astimezone(UTC).date()


def preset_range(key: str, *, today: date) -> DayRange:
    return PRESETS[key][1](today)


def _day_field(label: str) -> forms.DateField:
    bounds = f"Enter a day from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}."
    return forms.DateField(
        label=label,
        required=False,
        input_formats=[ISO_DAY],
        validators=[MinValueValidator(EARLIEST_DAY, bounds), MaxValueValidator(LATEST_DAY, bounds)],
        error_messages={"invalid": "Enter a valid day as YYYY-MM-DD."},
        widget=forms.DateInput(
            format=ISO_DAY, attrs={"type": "date", "min": EARLIEST_DAY.isoformat(), "max": LATEST_DAY.isoformat()}
        ),
        help_text="UTC day, inclusive.",
    )


class RangeForm(forms.Form):
    """``from`` and ``to`` (a custom range) or ``range`` (a preset name); a custom range wins."""

    range = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in PRESETS.items()],
        required=False,
        error_messages={"invalid_choice": "Unknown preset %(value)s."},
    )

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        # `from` is a Python keyword, so these fields cannot be declared as class attributes.
        self.fields["from"] = _day_field("From")
        self.fields["to"] = _day_field("To")

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        start, end = data.get("from"), data.get("to")
        if start is None and end is None:
            data["preset"] = data.get("range") or DEFAULT_PRESET
            data["day_range"] = preset_range(data["preset"], today=self.today)
            return data
        # One end given: the other defaults as in the API (to: today; from: 30 days before to).
        end = end or max(start, self.today)
        start = start or end - timedelta(days=DEFAULT_SPAN_DAYS - 1)
        if start > end:
            self.add_error("to", "The last day must not be before the first.")
        elif (end - start).days + 1 > MAX_SUMMARY_RANGE_DAYS:
            self.add_error("from", f"A range spans at most {MAX_SUMMARY_RANGE_DAYS} days.")
        else:
            data["day_range"] = DayRange(start, end)
        return data


@dataclass(frozen=True)
class RangeChoice:
    """The range to show, the preset it is (if any), and the form to render above it."""

    day_range: DayRange
    preset: str | None
    form: RangeForm
    fell_back: bool


def choose_range(params: QueryDict, *, today: date | None = None) -> RangeChoice:
    """Return the range the GET parameters ask for, or the default one when they are invalid."""
    today = today or today_utc()
    submitted = RangeForm(params, today=today)
    if not submitted.is_valid():
        default = preset_range(DEFAULT_PRESET, today=today)
        return RangeChoice(default, DEFAULT_PRESET, submitted, fell_back=True)
    day_range = submitted.cleaned_data["day_range"]
    preset = submitted.cleaned_data.get("preset")
    shown = RangeForm(initial={"from": day_range.start, "to": day_range.end}, today=today)
    return RangeChoice(day_range, preset, shown, fell_back=False)
