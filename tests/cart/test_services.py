"""The interface other apps build on (orders): the customer's cart with its books, and clear."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.cart.exceptions import CartNotFound
from apps.cart.models import Cart, CartLine
from apps.cart.selectors import cart_get_for_user
from apps.cart.services import cart_clear, cart_item_add
from tests.factories import BookFactory, CartFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart(user):
    cart = CartFactory(user=user)
    for book in BookFactory.create_batch(3):
        cart_item_add(cart=cart, book_id=book.pk, quantity=2)
    return cart


def test_cart_get_for_user_prefetches_lines_and_books_in_two_queries(user, cart):
    with CaptureQueriesContext(connection) as context:
        found = cart_get_for_user(user=user)
        titles = [line.book.title for line in found.lines.all()]
    assert len(context.captured_queries) == 2
    assert found == cart
    assert len(titles) == 3


def test_cart_get_for_user_is_none_without_a_cart(user):
    assert cart_get_for_user(user=user) is None


def test_cart_clear_empties_the_cart_and_keeps_it(user, cart):
    found = cart_get_for_user(user=user)
    cart_clear(cart=found)
    assert not CartLine.objects.filter(cart=cart).exists()
    assert Cart.objects.filter(pk=cart.pk).exists()
    # The caller's prefetched lines do not linger either.
    assert list(found.lines.all()) == []


def test_a_write_to_a_cart_deleted_meanwhile_is_a_404_not_a_crash(cart):
    Cart.objects.filter(pk=cart.pk).delete()
    with pytest.raises(CartNotFound):
        cart_item_add(cart=cart, book_id=BookFactory().pk, quantity=1)
