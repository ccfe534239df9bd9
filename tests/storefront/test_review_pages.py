"""Reviews in the pages: on a book's page, written, edited, deleted, voted, and "my reviews"."""

import pytest
from django.core.cache import cache

from apps.reviews.models import Review, ReviewStatus
from tests.factories import BookFactory, UserFactory, review_make
from tests.storefront.conftest import html

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script>'


@pytest.fixture
def book(db):
    return BookFactory(title="Le Petit Prince")


def test_the_book_page_shows_published_reviews_and_their_distribution(client, book):
    review_make(book=book, rating=5, title="Magnifique", user=UserFactory(first_name="Léa", last_name="Roux"))
    review_make(book=book, rating=3, title="Correct")
    review_make(book=book, rating=1, title="Caché", status=ReviewStatus.HIDDEN)

    page = html(client.get(f"/books/{book.slug}/"))

    assert "Magnifique" in page
    assert "Correct" in page
    assert "Caché" not in page
    assert "Léa R." in page
    assert "4,0 sur 5, d\u2019après 2 avis" in page
    assert page.count('data-testid="review"') == 2
    assert "Connectez-vous pour écrire un avis" in page


def test_customer_text_in_reviews_is_escaped_on_the_book_page_and_in_my_reviews(signed_in, user, book):
    review_make(book=book, user=user, title=SCRIPT, body=SCRIPT)

    for page in (html(signed_in.get(f"/books/{book.slug}/")), html(signed_in.get("/accounts/reviews/"))):
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_a_signed_in_customer_writes_a_review_from_the_book_page(
    signed_in, user, book, django_capture_on_commit_callbacks
):
    form_page = html(signed_in.get(f"/books/{book.slug}/"))
    assert 'name="rating"' in form_page

    # The page above is cached: the review retires it when its transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            f"/books/{book.slug}/reviews/", {"rating": "4", "title": "Très beau", "body": "Relu"}
        )

    assert response.status_code == 302
    assert response.url == f"/books/{book.slug}/#reviews"
    page = html(signed_in.get(f"/books/{book.slug}/"))
    assert "Très beau" in page
    assert "Merci : votre avis est publié." in page
    assert 'name="rating"' not in page  # one review per book: the form gives way to an edit link
    assert Review.objects.get(user=user, book=book).rating == 4


def test_a_review_without_a_rating_is_refused_next_to_the_field(signed_in, book):
    response = signed_in.post(f"/books/{book.slug}/reviews/", {"title": "Sans note"})

    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert 'value="Sans note"' in response.content.decode()
    assert not Review.objects.exists()


def test_a_held_review_is_shown_to_its_author_only(signed_in, client, book, settings):
    settings.REVIEWS_REQUIRE_APPROVAL = True
    signed_in.post(f"/books/{book.slug}/reviews/", {"rating": "2", "title": "En attente"})

    mine = html(signed_in.get(f"/books/{book.slug}/"))
    signed_in.logout()
    cache.clear()
    theirs = html(client.get(f"/books/{book.slug}/"))

    assert "En attente" in mine
    assert "En attente de validation" in mine
    assert "En attente" not in theirs


def test_the_author_edits_and_deletes_their_review_from_my_reviews(signed_in, user, book):
    review = review_make(book=book, user=user, rating=2, title="Premier avis")
    assert "Premier avis" in html(signed_in.get("/accounts/reviews/"))

    edited = signed_in.post(f"/reviews/{review.pk}/edit/", {"rating": "5", "title": "Relu et aimé"})
    assert edited.status_code == 302
    page = html(signed_in.get("/accounts/reviews/"))
    assert "Relu et aimé" in page
    assert "(modifié)" in page

    assert signed_in.post(f"/reviews/{review.pk}/delete/").status_code == 302
    assert not Review.objects.filter(pk=review.pk).exists()


def test_someone_elses_review_cannot_be_edited_or_deleted(signed_in, book):
    review = review_make(book=book, rating=2)

    assert signed_in.get(f"/reviews/{review.pk}/edit/").status_code == 404
    assert signed_in.post(f"/reviews/{review.pk}/edit/", {"rating": "5"}).status_code == 404
    assert signed_in.post(f"/reviews/{review.pk}/delete/").status_code == 404
    assert Review.objects.get(pk=review.pk).rating == 2


def test_a_customer_votes_a_review_helpful_once(signed_in, book):
    review = review_make(book=book)

    signed_in.post(f"/reviews/{review.pk}/helpful/")
    signed_in.post(f"/reviews/{review.pk}/helpful/")

    assert Review.objects.get(pk=review.pk).helpful_count == 1
    assert "1 lecteur a trouvé cet avis utile" in html(signed_in.get(f"/books/{book.slug}/"))


def test_writing_a_review_needs_a_signed_in_customer_and_csrf(client, book):
    from django.test import Client

    assert client.post(f"/books/{book.slug}/reviews/", {"rating": "4"}).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(UserFactory())
    assert strict.post(f"/books/{book.slug}/reviews/", {"rating": "4"}).status_code == 403
    assert not Review.objects.exists()


def test_a_signed_in_customer_adds_one_query_to_the_book_page(signed_in, book, django_assert_num_queries):
    for _ in range(3):
        review_make(book=book)
    signed_in.get(f"/books/{book.slug}/")  # fills the page's cache
    # The signed-in user (the session and the cart's count are in the cache), and their own review.
    with django_assert_num_queries(2):
        signed_in.get(f"/books/{book.slug}/")
