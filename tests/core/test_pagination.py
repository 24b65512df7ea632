import pytest

from movierec.graphql.errors import BadUserInput
from movierec.graphql.pagination import OrderKey, paginate
from movies.models import Movie
from tests.factories import MovieFactory

pytestmark = pytest.mark.django_db

BY_POPULARITY = [OrderKey("popularity", descending=True)]


def _titles(page):
    return [m.title for m in page.nodes]


def test_pages_walk_the_whole_list_in_order_without_repeats():
    for i in range(7):
        MovieFactory(title=f"m{i}", popularity=100 - i)
    seen, after = [], None
    while True:
        page = paginate(Movie.objects.all(), order=BY_POPULARITY, first=3, after=after)
        seen += _titles(page)
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    assert seen == [f"m{i}" for i in range(7)]
    assert page.total_count() == 7


def test_cursor_is_stable_when_rows_are_inserted_ahead_of_it():
    for i in range(6):
        MovieFactory(title=f"m{i}", popularity=100 - i)
    first = paginate(Movie.objects.all(), order=BY_POPULARITY, first=3, after=None)
    MovieFactory(title="new and hot", popularity=1000)
    second = paginate(Movie.objects.all(), order=BY_POPULARITY, first=3, after=first.cursors[-1])
    assert _titles(second) == ["m3", "m4", "m5"]


def test_ties_and_nulls_are_ordered_by_primary_key_and_last():
    a = MovieFactory(title="a", release_date=None, year=None)
    b = MovieFactory(title="b", popularity=5)
    c = MovieFactory(title="c", popularity=5)
    order = [OrderKey("release_date", descending=True)]
    seen, after = [], None
    for _ in range(5):
        page = paginate(Movie.objects.all(), order=order, first=1, after=after)
        seen += _titles(page)
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    assert seen[-1] == "a" and sorted(seen) == ["a", "b", "c"]
    assert len(set(seen)) == 3
    del b, c, a


@pytest.mark.parametrize(
    ("first", "after"), [(-1, None), (101, None), (10, "not-a-cursor"), (10, "W10")]
)
def test_bad_page_arguments_are_user_errors(first, after):
    with pytest.raises(BadUserInput):
        paginate(Movie.objects.all(), order=BY_POPULARITY, first=first, after=after)
