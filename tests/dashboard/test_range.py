"""Date range presets, custom ranges, and bad input falling back to the default range."""

from datetime import date, timedelta

import pytest
from django.http import QueryDict

from config.limits import MAX_RANGE_DAYS
from orders_read.dashboard.range import DEFAULT_PRESET, DayRange, choose_range, preset_range

FRIDAY = date(2024, 3, 15)  # 2024 is a leap year


def _choose(query: str, today: date = FRIDAY):
    return choose_range(QueryDict(query), today=today)


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("today", FRIDAY, FRIDAY),
        ("last_7_days", date(2024, 3, 9), FRIDAY),
        ("last_30_days", date(2024, 2, 15), FRIDAY),
        ("this_month", date(2024, 3, 1), FRIDAY),
        ("last_month", date(2024, 2, 1), date(2024, 2, 29)),
        ("last_90_days", date(2023, 12, 17), FRIDAY),
        ("this_year", date(2024, 1, 1), FRIDAY),
    ],
)
def test_presets_end_today_or_cover_whole_calendar_periods(preset, start, end):
    assert preset_range(preset, today=FRIDAY) == DayRange(start, end)
    choice = _choose(f"range={preset}")
    assert (choice.day_range, choice.preset, choice.fell_back) == (DayRange(start, end), preset, False)


def test_last_month_in_january_is_december_of_the_year_before():
    assert preset_range("last_month", today=date(2025, 1, 10)) == DayRange(date(2024, 12, 1), date(2024, 12, 31))


def test_without_parameters_the_range_is_the_last_30_days():
    choice = _choose("")
    assert choice.day_range == DayRange(date(2024, 2, 15), FRIDAY)
    assert (choice.preset, choice.fell_back) == (DEFAULT_PRESET, False)


def test_the_previous_range_has_the_same_length_and_ends_the_day_before():
    assert DayRange(date(2024, 3, 1), date(2024, 3, 15)).previous() == DayRange(date(2024, 2, 15), date(2024, 2, 29))


def test_a_custom_range_wins_over_a_preset_and_fills_the_form():
    choice = _choose("range=today&from=2024-01-05&to=2024-01-20")

    assert (choice.day_range, choice.preset, choice.fell_back) == (
        DayRange(date(2024, 1, 5), date(2024, 1, 20)),
        None,
        False,
    )
    assert choice.form.initial == {"from": date(2024, 1, 5), "to": date(2024, 1, 20)}


def test_one_end_alone_takes_the_other_as_the_api_does():
    assert _choose("from=2024-03-01").day_range == DayRange(date(2024, 3, 1), FRIDAY)
    assert _choose("to=2024-01-31").day_range == DayRange(date(2024, 1, 2), date(2024, 1, 31))


def test_a_range_may_span_exactly_the_maximum():
    start = FRIDAY - timedelta(days=MAX_RANGE_DAYS - 1)
    assert _choose(f"from={start.isoformat()}&to={FRIDAY.isoformat()}").day_range.days == MAX_RANGE_DAYS


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2024-03-10&to=2024-03-01", "to", "The last day must not be before the first."),
        ("from=2014-03-14&to=2024-03-15", "from", "A range spans at most 3653 days."),
        ("from=2024-02-30", "from", "Enter a valid day as YYYY-MM-DD."),
        ("from=yesterday", "from", "Enter a valid day as YYYY-MM-DD."),
        ("from=15/03/2024", "from", "Enter a valid day as YYYY-MM-DD."),
        ("to=9999-12-31", "to", "Enter a day from 2000-01-01 to 2099-12-31."),
        ("from=0001-01-01&to=0001-01-02", "from", "Enter a day from 2000-01-01 to 2099-12-31."),
        ("range=forever", "range", "Unknown preset forever."),
    ],
)
def test_bad_input_falls_back_to_the_default_range_with_the_error(query, field, message):
    choice = _choose(query)

    assert choice.fell_back
    assert (choice.day_range, choice.preset) == (preset_range(DEFAULT_PRESET, today=FRIDAY), DEFAULT_PRESET)
    assert choice.form.errors[field] == [message]


@pytest.mark.usefixtures("read_tables")
@pytest.mark.parametrize(
    "query",
    ["from=2024-02-30", "from=9999-12-31&to=9999-12-31", "from=2024-03-10&to=2024-03-01", "range=%00", "from=%ff"],
)
def test_the_page_shows_the_error_and_the_default_range_never_a_server_error(viewer_client, query):
    response = viewer_client.get(f"/dashboard/?{query}")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="range-errors" role="alert"' in page
    assert "Showing the last 30 days instead." in page
    assert response.context["day_range"].days == 30
    assert 'aria-invalid="true"' in page or "range=" in query


@pytest.mark.usefixtures("read_tables")
def test_the_page_marks_the_current_preset_and_labels_the_date_inputs(viewer_client):
    page = viewer_client.get("/dashboard/?range=last_7_days").content.decode()

    assert '<a id="preset-last_7_days" href="?range=last_7_days" aria-current="true">' in page
    assert '<label for="id_from">From</label>' in page
    assert '<label for="id_to">To</label>' in page
    assert 'type="date"' in page
    assert 'id="range-form"' in page
