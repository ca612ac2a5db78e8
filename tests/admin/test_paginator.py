"""The admin's paginator never offers a page deep enough to make the database skip a million rows."""

import pytest
from django.contrib.auth import get_user_model
from django.core.paginator import EmptyPage

from config.admin_paginator import MAX_PAGES, EstimatedCountPaginator


class MillionRows(EstimatedCountPaginator):
    count = 1_000_000  # as if PostgreSQL estimated a million rows


@pytest.mark.django_db
def test_a_huge_list_offers_at_most_max_pages():
    paginator = MillionRows(get_user_model().objects.order_by("pk"), 50)

    assert paginator.num_pages == MAX_PAGES
    assert paginator.validate_number(MAX_PAGES) == MAX_PAGES
    with pytest.raises(EmptyPage):
        paginator.validate_number(MAX_PAGES + 1)


@pytest.mark.django_db
def test_a_selection_that_cannot_match_counts_zero_without_explaining():
    assert EstimatedCountPaginator(get_user_model().objects.none(), 50).count == 0
