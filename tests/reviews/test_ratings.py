"""The books' stored ratings: the recompute command, and exactness under concurrent reviews."""

import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from apps.catalog.models import Book
from tests.factories import BookFactory, UserFactory, review_make
from tests.services import requires_postgres


def run(*args: str) -> str:
    out = StringIO()
    call_command("recompute_ratings", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_command_corrects_drifted_ratings_and_says_which():
    drifted, exact, unreviewed = BookFactory(title="Dérive"), BookFactory(), BookFactory()
    review_make(book=drifted, rating=4)
    review_make(book=drifted, rating=5)
    review_make(book=exact, rating=3)
    Book.objects.filter(pk=drifted.pk).update(rating_count=7, rating_average=Decimal("1.20"))
    Book.objects.filter(pk=unreviewed.pk).update(rating_count=1, rating_average=Decimal("5.00"))

    output = run()

    assert f"book {drifted.pk} “Dérive”: 7 review(s) averaging 1.20 -> 2 averaging 4.50" in output
    assert f"book {unreviewed.pk} " in output
    assert "2 book rating(s) corrected." in output
    assert Book.objects.get(pk=drifted.pk).rating_average == Decimal("4.50")
    assert (Book.objects.get(pk=unreviewed.pk).rating_count, Book.objects.get(pk=exact.pk).rating_count) == (
        0,
        1,
    )
    assert "0 book rating(s) corrected." in run()


@pytest.mark.django_db
def test_the_command_can_check_some_books_only():
    first, second = BookFactory(), BookFactory()
    Book.objects.filter(pk__in=[first.pk, second.pk]).update(rating_count=3)

    assert "1 book rating(s) corrected." in run("--book", str(first.pk))
    assert Book.objects.get(pk=second.pk).rating_count == 3


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_reviews_of_one_book_leave_an_exact_rating():
    book = BookFactory()
    readers = [UserFactory() for _ in range(20)]
    ratings = [1 + i % 5 for i in range(20)]
    barrier = threading.Barrier(len(readers))
    statuses: list = [None] * len(readers)

    def review(index: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(readers[index])
            barrier.wait(timeout=30)
            response = client.post(f"/api/v1/books/{book.slug}/reviews/", {"rating": ratings[index]})
            statuses[index] = response.status_code
        except Exception as exc:  # reported by the assertion, not lost in the thread
            statuses[index] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=review, args=(i,)) for i in range(len(readers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert statuses == [201] * 20
    book.refresh_from_db()
    assert (book.rating_count, book.rating_average) == (20, Decimal("3.00"))
    assert "0 book rating(s) corrected." in run()


@pytest.mark.django_db
def test_the_demo_reviews_rate_books_exactly_and_load_twice_alike(settings):
    settings.REVIEWS_REQUIRE_APPROVAL = True  # the demo's reviews are published all the same
    books = [BookFactory() for _ in range(12)]

    first = StringIO()
    call_command("load_demo_reviews", stdout=first)
    again = StringIO()
    call_command("load_demo_reviews", stdout=again)

    rated = Book.objects.filter(pk__in=[b.pk for b in books], rating_count__gt=0)
    assert 4 <= rated.count() < 12
    written = int(first.getvalue().split()[2])
    assert written == sum(rated.values_list("rating_count", flat=True))
    assert f"0 written, {written} kept" in again.getvalue()
    assert "0 book rating(s) corrected." in run()
