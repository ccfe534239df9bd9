"""The reviews API: writing, reading, editing, moderating and voting, as clients see them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError
from rest_framework.test import APIClient

from apps.catalog.models import Book
from apps.reviews.models import Review, ReviewStatus
from tests.factories import BookFactory, UserFactory, order_delivered_make, order_make, review_make

pytestmark = pytest.mark.django_db

API = "/api/v1"


def reviews_url(book) -> str:
    return f"{API}/books/{book.slug}/reviews/"


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def rating_of(book) -> tuple[int, Decimal]:
    book = Book.objects.get(pk=book.pk)
    return book.rating_count, book.rating_average


@pytest.fixture
def book(db):
    return BookFactory()


# --- Writing ---------------------------------------------------------------------------------


def test_customer_reviews_a_book_once_and_a_second_is_a_409(user_client, book):
    first = user_client.post(reviews_url(book), {"rating": 4, "title": "Beau", "body": "Un vrai plaisir."})
    second = user_client.post(reviews_url(book), {"rating": 2})

    assert first.status_code == 201, first.json()
    assert first.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "book": book.slug,
        "book_title": book.title,
        "rating": 4,
        "title": "Beau",
        "body": "Un vrai plaisir.",
        "author_name": first.json()["author_name"],
        "verified_purchase": False,
        "helpful_count": 0,
        "created_at": "",
        "edited_at": None,
        "status": "published",
        "moderation_reason": "",
    }
    assert second.status_code == 409
    assert second.json()["code"] == "review_exists"
    assert Review.objects.filter(book=book).count() == 1
    assert rating_of(book) == (1, Decimal("4.00"))


def test_the_database_keeps_one_review_per_customer_and_book(user, book):
    Review.objects.create(user=user, book=book, rating=3)
    with pytest.raises(IntegrityError):
        Review.objects.create(user=user, book=book, rating=5)


def test_the_database_refuses_a_rating_outside_1_to_5(user, book):
    with pytest.raises(IntegrityError):
        Review.objects.create(user=user, book=book, rating=6)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": 4.5}, "rating"),
        ({}, "rating"),
        ({"rating": 3, "title": "t" * 121}, "title"),
        ({"rating": 3, "body": "b" * 5001}, "body"),
    ],
)
def test_invalid_reviews_are_refused_field_by_field(user_client, book, body, field):
    response = user_client.post(reviews_url(book), body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not Review.objects.exists()


def test_reviewing_a_book_that_does_not_exist_is_a_404(user_client):
    response = user_client.post(f"{API}/books/no-such-book/reviews/", {"rating": 4})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_anonymous_visitors_cannot_write_a_review(api_client, book):
    assert api_client.post(reviews_url(book), {"rating": 4}).status_code == 401


def test_verified_purchase_comes_from_a_delivered_order_never_from_the_client(book):
    paid_only, delivered, other_book = UserFactory(), UserFactory(), BookFactory()
    order_make(user=paid_only, books=[book], paid=True)
    order_delivered_make(user=delivered, books=[book])
    liar = UserFactory()
    order_delivered_make(user=liar, books=[other_book])

    answers = {
        name: client_of(user).post(reviews_url(book), {"rating": 5, "verified_purchase": True}, format="json")
        for name, user in {"paid only": paid_only, "delivered": delivered, "other book": liar}.items()
    }

    assert {name: r.json()["verified_purchase"] for name, r in answers.items()} == {
        "paid only": False,
        "delivered": True,
        "other book": False,
    }


# --- Reading ---------------------------------------------------------------------------------


def test_a_books_reviews_come_with_their_distribution(api_client, book):
    for rating in (5, 5, 4, 1):
        review_make(book=book, rating=rating)
    review_make(book=book, rating=2, status=ReviewStatus.HIDDEN)
    review_make(book=BookFactory(), rating=3)

    body = api_client.get(reviews_url(book)).json()

    assert body["count"] == 4
    assert body["distribution"] == {"5": 2, "4": 1, "3": 0, "2": 0, "1": 1}
    assert (body["rating_count"], body["rating_average"]) == (4, "3.75")
    assert sorted(r["rating"] for r in body["results"]) == [1, 4, 5, 5]
    assert all("status" not in r and "user" not in r for r in body["results"])


def test_the_author_is_named_by_first_name_and_initial_never_by_email(api_client, book):
    review_make(book=book, user=UserFactory(first_name="Marie", last_name="Curie", email="marie@example.com"))

    (review,) = api_client.get(reviews_url(book)).json()["results"]

    assert review["author_name"] == "Marie C."
    assert "marie@example.com" not in str(review)


def test_reviews_order_by_newest_rating_or_helpfulness(api_client, book):
    old = review_make(book=book, rating=2)
    mid = review_make(book=book, rating=5)
    new = review_make(book=book, rating=3)
    for voter in (UserFactory(), UserFactory()):
        client_of(voter).post(f"{API}/reviews/{old.pk}/helpful/")
    client_of(UserFactory()).post(f"{API}/reviews/{new.pk}/helpful/")

    def ids(ordering: str) -> list[int]:
        return [r["id"] for r in api_client.get(reviews_url(book), {"ordering": ordering}).json()["results"]]

    assert ids("newest") == [new.pk, mid.pk, old.pk]
    assert ids("oldest") == [old.pk, mid.pk, new.pk]
    assert ids("-rating") == [mid.pk, new.pk, old.pk]
    assert ids("rating") == [old.pk, new.pk, mid.pk]
    assert ids("helpful") == [old.pk, new.pk, mid.pk]
    refused = api_client.get(reviews_url(book), {"ordering": "stars"})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["ordering"]


def test_reading_a_books_reviews_runs_four_queries_whatever_their_number(
    api_client, book, django_assert_num_queries
):
    for _ in range(3):
        review_make(book=book)
    with django_assert_num_queries(4):  # the book's id, the distribution, the count, the page
        assert api_client.get(reviews_url(book)).json()["count"] == 3
    for _ in range(12):
        review_make(book=book)
    with django_assert_num_queries(4):
        assert len(api_client.get(reviews_url(book)).json()["results"]) == 10


def test_the_reviews_of_a_book_that_does_not_exist_are_a_404(api_client):
    assert api_client.get(f"{API}/books/nope/reviews/").status_code == 404


def test_a_script_in_a_review_comes_back_as_text(user_client, api_client, book):
    script = '<script>alert("x")</script><b>bold</b>'
    user_client.post(reviews_url(book), {"rating": 4, "title": script, "body": script})

    (review,) = api_client.get(reviews_url(book)).json()["results"]

    assert (review["title"], review["body"]) == (script, script)


def test_my_reviews_lists_mine_whatever_their_state(user, user_client, settings):
    settings.REVIEWS_REQUIRE_APPROVAL = True
    pending = review_make(user=user)
    rejected = review_make(user=user, status=ReviewStatus.REJECTED)
    review_make()

    body = user_client.get(f"{API}/me/reviews/").json()

    assert {(r["id"], r["status"]) for r in body["results"]} == {
        (pending.pk, "pending"),
        (rejected.pk, "rejected"),
    }
    assert {r["moderation_reason"] for r in body["results"]} == {"", "test"}


# --- Editing ---------------------------------------------------------------------------------


def test_the_author_edits_their_review_and_it_says_when(user, user_client, book):
    review = review_make(user=user, book=book, rating=2)

    response = user_client.patch(f"{API}/reviews/{review.pk}/", {"rating": 5, "body": "Relu: superbe."})

    assert response.status_code == 200
    assert (response.json()["rating"], response.json()["body"]) == (5, "Relu: superbe.")
    assert response.json()["edited_at"] is not None
    assert rating_of(book) == (1, Decimal("5.00"))


def test_others_get_a_404_for_someone_elses_review(book):
    review = review_make(book=book, rating=2)
    intruder = client_of(UserFactory())

    assert intruder.patch(f"{API}/reviews/{review.pk}/", {"rating": 5}).status_code == 404
    assert intruder.delete(f"{API}/reviews/{review.pk}/").status_code == 404
    assert Review.objects.get(pk=review.pk).rating == 2


def test_the_author_deletes_their_review_and_the_rating_follows(user, user_client, book):
    review_make(book=book, rating=5)
    review = review_make(user=user, book=book, rating=1)

    assert user_client.delete(f"{API}/reviews/{review.pk}/").status_code == 204
    assert rating_of(book) == (1, Decimal("5.00"))


def test_an_edit_goes_back_to_the_moderators_when_approval_is_required(user, user_client, book, settings):
    review = review_make(user=user, book=book, rating=4)
    settings.REVIEWS_REQUIRE_APPROVAL = True

    response = user_client.patch(f"{API}/reviews/{review.pk}/", {"body": "Changé"})

    assert response.json()["status"] == "pending"
    assert rating_of(book) == (0, Decimal("0.00"))


# --- Moderation ------------------------------------------------------------------------------


def test_held_reviews_are_invisible_until_approved_and_the_author_is_told(
    staff_client, book, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.REVIEWS_REQUIRE_APPROVAL = True
    author = UserFactory(first_name="Léa")
    created = client_of(author).post(reviews_url(book), {"rating": 5, "title": "<i>Wow</i>"}).json()

    assert created["status"] == "pending"
    assert APIClient().get(reviews_url(book)).json()["count"] == 0
    assert rating_of(book) == (0, Decimal("0.00"))
    assert APIClient().get(f"{API}/reviews/{created['id']}/").status_code == 404
    assert client_of(author).get(f"{API}/reviews/{created['id']}/").json()["status"] == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{API}/reviews/{created['id']}/moderate/", {"action": "approve"})

    assert response.status_code == 200
    assert response.json()["status"] == "published"
    assert APIClient().get(reviews_url(book)).json()["count"] == 1
    assert rating_of(book) == (1, Decimal("5.00"))
    (email,) = mailoutbox
    assert email.to == [author.email]
    assert book.title in email.subject
    assert f"/books/{book.slug}/" in email.body


def test_a_rejection_needs_a_reason_which_the_author_reads(
    staff_client, book, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.REVIEWS_REQUIRE_APPROVAL = True
    review = review_make(book=book)
    url = f"{API}/reviews/{review.pk}/moderate/"

    without = staff_client.post(url, {"action": "reject"})
    with django_capture_on_commit_callbacks(execute=True):
        with_reason = staff_client.post(url, {"action": "reject", "reason": "Hors sujet"})

    assert without.status_code == 400
    assert list(without.json()["errors"]) == ["reason"]
    assert with_reason.json()["status"] == "rejected"
    (email,) = mailoutbox
    assert "Hors sujet" in email.body


def test_hiding_a_published_review_removes_it_from_the_list_and_the_average(staff_client, book):
    review_make(book=book, rating=5)
    review = review_make(book=book, rating=1)
    assert rating_of(book) == (2, Decimal("3.00"))

    staff_client.post(f"{API}/reviews/{review.pk}/moderate/", {"action": "hide", "reason": "Injurieux"})

    assert APIClient().get(reviews_url(book)).json()["count"] == 1
    assert rating_of(book) == (1, Decimal("5.00"))


def test_only_staff_moderate(user_client, api_client, book):
    review = review_make(book=book)
    url = f"{API}/reviews/{review.pk}/moderate/"

    assert user_client.post(url, {"action": "hide", "reason": "x"}).status_code == 403
    assert api_client.post(url, {"action": "hide", "reason": "x"}).status_code == 401
    assert user_client.get(f"{API}/reviews/").status_code == 403
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.PUBLISHED


def test_staff_see_the_moderation_queue(staff_client, settings):
    settings.REVIEWS_REQUIRE_APPROVAL = True
    pending = review_make()
    review_make(status=ReviewStatus.PUBLISHED)

    body = staff_client.get(f"{API}/reviews/", {"status": "pending"}).json()

    assert [r["id"] for r in body["results"]] == [pending.pk]


def test_the_rating_is_exact_through_create_edit_delete_hide_and_approve(staff_client, book, settings):
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    steps = []
    client_of(alice).post(reviews_url(book), {"rating": 5})
    steps.append(rating_of(book))
    bob_review = client_of(bob).post(reviews_url(book), {"rating": 2}).json()
    steps.append(rating_of(book))
    client_of(bob).patch(f"{API}/reviews/{bob_review['id']}/", {"rating": 4})
    steps.append(rating_of(book))
    staff_client.post(f"{API}/reviews/{bob_review['id']}/moderate/", {"action": "hide", "reason": "spam"})
    steps.append(rating_of(book))
    staff_client.post(f"{API}/reviews/{bob_review['id']}/moderate/", {"action": "approve"})
    steps.append(rating_of(book))
    settings.REVIEWS_REQUIRE_APPROVAL = True
    carol_review = client_of(carol).post(reviews_url(book), {"rating": 1}).json()
    steps.append(rating_of(book))
    staff_client.post(f"{API}/reviews/{carol_review['id']}/moderate/", {"action": "approve"})
    steps.append(rating_of(book))
    alice_review = Review.objects.get(user=alice)
    client_of(alice).delete(f"{API}/reviews/{alice_review.pk}/")
    steps.append(rating_of(book))

    assert steps == [
        (1, Decimal("5.00")),
        (2, Decimal("3.50")),
        (2, Decimal("4.50")),
        (1, Decimal("5.00")),
        (2, Decimal("4.50")),
        (2, Decimal("4.50")),
        (3, Decimal("3.33")),
        (2, Decimal("2.50")),
    ]


def test_the_book_carries_its_rating_and_the_list_orders_by_it(api_client):
    low, high, none = BookFactory(title="Bas"), BookFactory(title="Haut"), BookFactory(title="Rien")
    review_make(book=low, rating=2)
    review_make(book=high, rating=5)
    review_make(book=high, rating=4)

    detail = api_client.get(f"{API}/books/{high.slug}/").json()
    ranked = api_client.get(f"{API}/books/", {"ordering": "-rating"}).json()["results"]

    assert (detail["rating_average"], detail["rating_count"]) == ("4.50", 2)
    assert [b["slug"] for b in ranked] == [high.slug, low.slug, none.slug]


def test_a_deactivated_customers_reviews_are_hidden_not_deleted():
    from apps.accounts.services import user_activate, user_deactivate

    book = BookFactory()
    author = UserFactory()
    review_make(book=book, user=author, rating=1)
    review_make(book=book, rating=5)

    user_deactivate(user=author)
    hidden = (APIClient().get(reviews_url(book)).json()["count"], rating_of(book))
    kept = Review.objects.filter(user=author).count()
    user_activate(user=author)
    back = (APIClient().get(reviews_url(book)).json()["count"], rating_of(book))

    assert hidden == (1, (1, Decimal("5.00")))
    assert kept == 1
    assert back == (2, (2, Decimal("3.00")))


# --- Helpful votes ---------------------------------------------------------------------------


def test_a_vote_twice_counts_once_and_can_be_taken_back(user_client, book):
    review = review_make(book=book)
    url = f"{API}/reviews/{review.pk}/helpful/"

    first, second = user_client.post(url), user_client.post(url)

    assert (first.status_code, first.json()) == (201, {"helpful_count": 1, "voted": True})
    assert (second.status_code, second.json()) == (200, {"helpful_count": 1, "voted": True})
    assert user_client.delete(url).status_code == 204
    assert user_client.delete(url).status_code == 204
    assert Review.objects.get(pk=review.pk).helpful_count == 0


def test_a_vote_on_ones_own_review_is_refused(user, user_client, book):
    review = review_make(user=user, book=book)

    response = user_client.post(f"{API}/reviews/{review.pk}/helpful/")

    assert response.status_code == 403
    assert response.json()["code"] == "own_review_vote"
    assert Review.objects.get(pk=review.pk).helpful_count == 0


def test_hidden_reviews_cannot_be_voted_on_and_anonymous_votes_are_refused(user_client, api_client, book):
    hidden = review_make(book=book, status=ReviewStatus.HIDDEN)
    shown = review_make(book=book)

    assert user_client.post(f"{API}/reviews/{hidden.pk}/helpful/").status_code == 404
    assert api_client.post(f"{API}/reviews/{shown.pk}/helpful/").status_code == 401


# --- Cache -----------------------------------------------------------------------------------


def test_a_review_retires_the_cached_reads_of_its_book_only(
    api_client, book, django_capture_on_commit_callbacks
):
    other = BookFactory()
    for url in (f"{API}/books/{book.slug}/", f"{API}/books/{other.slug}/", f"{API}/books/{book.isbn13}/"):
        api_client.get(url)

    with django_capture_on_commit_callbacks(execute=True):
        review_make(book=book, rating=3)

    by_slug = api_client.get(f"{API}/books/{book.slug}/")
    by_isbn = api_client.get(f"{API}/books/{book.isbn13}/")
    untouched = api_client.get(f"{API}/books/{other.slug}/")
    assert (by_slug["X-Cache"], by_slug.json()["rating_count"]) == ("MISS", 1)
    assert (by_isbn["X-Cache"], by_isbn.json()["rating_count"]) == ("MISS", 1)
    assert untouched["X-Cache"] == "HIT"
