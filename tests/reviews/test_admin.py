"""Moderating in the admin: the queue, customers' text escaped, and the three actions."""

from decimal import Decimal

import pytest

from apps.catalog.models import Book
from apps.reviews.models import Review, ReviewStatus
from tests.factories import BookFactory, UserFactory, review_make

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reviews/review/"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_customer_text_is_escaped_in_the_list_and_the_form(admin_client):
    review = review_make(title=SCRIPT, body=SCRIPT)

    listing = admin_client.get(CHANGELIST).content.decode()
    form = admin_client.get(f"{CHANGELIST}{review.pk}/change/").content.decode()

    for page in (listing, form):
        assert SCRIPT not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_queue_filters_by_state(admin_client, settings):
    settings.REVIEWS_REQUIRE_APPROVAL = True
    waiting = review_make(title="En attente")
    review_make(title="Déjà publié", status=ReviewStatus.PUBLISHED)

    page = admin_client.get(CHANGELIST, {"status__exact": "pending"}).content.decode()

    assert waiting.title in page
    assert "Déjà publié" not in page


def test_approving_publishes_and_counts_in_the_rating(admin_client, settings):
    settings.REVIEWS_REQUIRE_APPROVAL = True
    book = BookFactory()
    review = review_make(book=book, rating=5)

    response = admin_client.post(CHANGELIST, {"action": "approve_reviews", "_selected_action": [review.pk]})

    assert response.status_code == 302
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.PUBLISHED
    assert Book.objects.get(pk=book.pk).rating_count == 1


@pytest.mark.parametrize(("action", "status"), [("reject_reviews", "rejected"), ("hide_reviews", "hidden")])
def test_rejecting_or_hiding_asks_for_a_reason_first(admin_client, action, status):
    book = BookFactory()
    review = review_make(book=book, rating=1)
    review_make(book=book, rating=5)
    selected = {"action": action, "_selected_action": [review.pk]}

    asked = admin_client.post(CHANGELIST, selected)
    refused = admin_client.post(CHANGELIST, {**selected, "apply": "1", "reason": ""})
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.PUBLISHED
    done = admin_client.post(CHANGELIST, {**selected, "apply": "1", "reason": "Hors sujet"})

    assert asked.status_code == 200
    assert 'name="reason"' in asked.content.decode()
    assert refused.status_code == 200
    assert "errorlist" in refused.content.decode()
    assert done.status_code == 302
    review.refresh_from_db()
    assert (review.status, review.moderation_reason) == (status, "Hors sujet")
    assert Book.objects.get(pk=book.pk).rating_average == Decimal("5.00")


def test_staff_cannot_add_reviews_in_the_admin(admin_client):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


def test_administrators_moderate_but_never_delete(client):
    from django.contrib.auth.models import Group

    moderator = UserFactory(is_staff=True)
    moderator.groups.add(Group.objects.get(name="Administrators"))
    client.force_login(moderator)
    review = review_make(rating=1)

    assert client.get(CHANGELIST).status_code == 200
    hidden = client.post(
        CHANGELIST,
        {"action": "hide_reviews", "_selected_action": [review.pk], "apply": "1", "reason": "Spam"},
    )
    assert hidden.status_code == 302
    assert Review.objects.get(pk=review.pk).status == ReviewStatus.HIDDEN
    assert client.post(f"{CHANGELIST}{review.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Review.objects.filter(pk=review.pk).exists()
