"""Deep pages read their keys first (`config.pagination.KeysFirstPaginator`): the same rows in
the same order as one sliced query, in the portal, the admin and the API."""

import datetime

import pytest
from django.core.paginator import Paginator

from branches.models import ActivityRecord
from config import pagination
from config.pagination import KeysFirstPaginator
from tests.conftest import add_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(tree, activity_types):
    # Pairs of records on the same day: the id breaks the tie, in both reads.
    types = [activity_types["theme_day"], activity_types["party_lecture"]]
    start = datetime.date(2025, 1, 1)
    for day in range(15):
        for activity_type in types:
            add_record(tree.branch_a, activity_type, start + datetime.timedelta(days=day))
    return (
        ActivityRecord.objects.select_related("organization")
        .prefetch_related("attendances")
        .order_by("-date", "-pk")
    )


def test_every_page_matches_the_sliced_query(records, monkeypatch):
    monkeypatch.setattr(pagination, "KEYS_FIRST_FROM", 0)
    plain, keys_first = Paginator(records, 4, orphans=1), KeysFirstPaginator(records, 4, orphans=1)
    assert keys_first.num_pages == plain.num_pages == 8
    for number in keys_first.page_range:
        expected = [r.pk for r in plain.page(number)]
        page = keys_first.page(number)
        assert [r.pk for r in page] == expected
        assert page.has_next() == (number < 8)
    # The rows come with their joins and prefetches.
    row = keys_first.page(3)[0]
    assert row.organization == row.organization and "organization" in row._state.fields_cache
    assert "attendances" in row._prefetched_objects_cache


def test_a_deep_page_costs_count_keys_rows_and_prefetch(
    records, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(pagination, "KEYS_FIRST_FROM", 8)
    paginator = KeysFirstPaginator(records, 4)
    with django_assert_num_queries(1):
        assert paginator.count == 30
    with django_assert_num_queries(2):  # a shallow page: rows and prefetch
        list(paginator.page(2))
    with django_assert_num_queries(3):  # a deep one: keys, rows, prefetch
        list(paginator.page(5))


def test_api_deep_page_is_the_same_as_a_shallow_read(records, client_for, monkeypatch):
    client = client_for("staff")
    shallow = client.get("/api/activity-records/", {"page": 2, "ordering": "-date"}).json()
    monkeypatch.setattr(pagination, "KEYS_FIRST_FROM", 0)
    deep = client.get("/api/activity-records/", {"page": 2, "ordering": "-date"}).json()
    assert deep == shallow
