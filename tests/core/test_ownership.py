"""Who may do what through the API: one row per endpoint the API serves, and each row proved.

The endpoints are read from the URL resolver (every pattern under ``/api/v1/``, and for each the
methods its view handles), so an endpoint added without a row fails here, and so does a row
left behind by an endpoint that went away. A row says what its endpoint is:

- **public**: anyone reads it, signed in or not;
- **owned**: it acts on the caller's own profile, addresses, cart, orders, reviews or votes.
  The owner succeeds. Another customer never reaches the owner's resource: an id of someone
  else's is a 404, like an unknown one (a 403 would tell that it exists), and an endpoint
  without an id serves the caller's own data, never the owner's. Anonymous callers get a 401,
  except where anonymous visitors have something of their own (the cart). Staff, through these
  customer endpoints, are customers like any other, unless the row says the code lets them in;
- **staff**: a customer gets 403, an anonymous caller 401, staff get through (a success, or a
  validation error: never 401 or 403);
- **auth**: the authentication endpoints, open to anonymous callers;
- **webhook**: a provider's notifications, authenticated by their signature only.

A refused caller must also leave the owner's data as it was (``state``), and a caller who is
not the owner must not be shown it (``sees``).

OPTIONS (the same metadata for everyone: tests/core/test_api_metadata.py) and HEAD (a GET
without its body) come with every view and have no rows; the format-suffix routes
(``books.json``) serve the views of the rows' patterns.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import pytest
from django.test import override_settings
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from apps.accounts.models import Address, User
from apps.cart.apps import CART_HEADER
from apps.cart.models import Cart, CartLine
from apps.catalog.models import Author, Book, Publisher
from apps.categories.models import Category
from apps.orders.models import Order, Refund
from apps.orders.services import refund_create
from apps.reviews.models import Review, ReviewStatus, ReviewVote
from apps.reviews.services import review_vote_add
from tests.factories import (
    AddressFactory,
    AuthorFactory,
    BookFactory,
    CartLineFactory,
    PublisherFactory,
    UserFactory,
    category_make,
    order_make,
    review_make,
)
from tests.urls import routes

pytestmark = pytest.mark.django_db

API = "/api/v1/"
PROBLEM = "application/problem+json"

# --- The endpoints the API serves, read from the resolver ------------------------------------

IMPLICIT_METHODS = {"head", "options"}


def _api_resolver() -> URLResolver:
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and str(pattern.pattern) == API.lstrip("/"):
            assert pattern.urlconf_module.__name__ == "bookstore.api.urls"
            return pattern
    raise AssertionError(f"No {API} in the root URLconf.")


def _methods(view: Any) -> set[str]:
    """A viewset route serves the methods it maps to actions; an APIView, the handlers it has.
    Either way only those its ``http_method_names`` allow (the others answer 405)."""
    allowed = set(view.cls.http_method_names) - IMPLICIT_METHODS
    actions = getattr(view, "actions", None)
    if actions is not None:
        return {method.upper() for method in actions if method in allowed}
    return {method.upper() for method in allowed if hasattr(view.cls, method)}


def served_endpoints() -> set[tuple[str, str]]:
    served = set()
    for route, view in routes(_api_resolver().url_patterns):
        if "{format}" not in route:
            served |= {(route, method) for method in _methods(view)}
    return served


# --- The data rows act on ---------------------------------------------------------------------


def _cart_of(user: User) -> Cart:
    return Cart.objects.get_or_create(user=user)[0]


class World:
    """What the rows act on, built on first use: a row pays only for what it touches."""

    @cached_property
    def owner(self) -> User:
        return UserFactory()

    @cached_property
    def other(self) -> User:
        return UserFactory()

    @cached_property
    def staff(self) -> User:
        return UserFactory(is_staff=True)

    @cached_property
    def book(self) -> Book:
        return BookFactory()

    @cached_property
    def author(self) -> Author:
        return AuthorFactory()

    @cached_property
    def publisher(self) -> Publisher:
        return PublisherFactory()

    @cached_property
    def category(self) -> Category:
        return category_make("Romans")

    @cached_property
    def address(self) -> Address:
        return AddressFactory(user=self.owner)

    @cached_property
    def cart_line(self) -> CartLine:
        return CartLineFactory(cart=_cart_of(self.owner))

    @cached_property
    def order(self) -> Order:
        """The owner's order, waiting for its (dummy) payment."""
        return order_make(user=self.owner)

    @cached_property
    def paid_order(self) -> Order:
        """The owner's paid order, partly refunded (the refund shows in the order)."""
        order = order_make(user=self.owner, paid=True)
        refund_create(order=order, amount=Decimal("1.00"), reason="A damaged cover.")
        return order

    @cached_property
    def review(self) -> Review:
        """The owner's review, awaiting moderation: only its author and staff may see it."""
        with override_settings(REVIEWS_REQUIRE_APPROVAL=True):
            review = review_make(user=self.owner, book=self.book)
        assert review.status == ReviewStatus.PENDING
        return review

    @cached_property
    def voted_review(self) -> Review:
        """A third party's published review, which the owner found helpful."""
        review = review_make(status=ReviewStatus.PUBLISHED)
        review_vote_add(review=review, user=self.owner)
        return review


# What rows read to see whether the owner's data changed, and whether an answer shows it.


def _row_of(instance: Any) -> dict | None:
    """The instance's row as it is now in the database (None once deleted)."""
    return type(instance).objects.filter(pk=instance.pk).values().first()


def _items(response: Any) -> list[dict]:
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def _ids(response: Any, key: str = "id") -> set:
    return {item[key] for item in _items(response)}


def _cart_lines(user: User) -> list[tuple[int, int]]:
    return list(CartLine.objects.filter(cart__user=user).order_by("pk").values_list("book_id", "quantity"))


def _line_ids(response: Any) -> set[int]:
    return {line["id"] for line in response.json()["lines"]}


def _vote_of_owner(w: World) -> bool:
    return ReviewVote.objects.filter(review=w.voted_review, user=w.owner).exists()


def _everyone_else_has_a_cart_line(w: World) -> None:
    # So that a refusal is about the owner's line or address, not the caller having no cart.
    for user in (w.other, w.staff):
        CartLineFactory(cart=_cart_of(user))


# --- The table --------------------------------------------------------------------------------

PUBLIC, OWNED, STAFF, AUTH, WEBHOOK = "public", "owned", "staff", "auth", "webhook"


@dataclass(frozen=True)
class Row:
    kind: str
    expect: dict[str, int]  # who calls → the status they get
    args: Callable[[World], dict] = lambda w: {}  # the path's parameters
    data: Callable[[World], Any] | None = None
    format: str = "json"
    setup: Callable[[World], Any] | None = None  # run before the call
    sees: Callable[[World, Any], bool] | None = None  # does the answer show the owner's resource?
    state: Callable[[World], Any] | None = None  # what a refused (or other) caller must leave as it was
    staff_allowed: bool = False  # the code lets staff reach the owner's resource here, on purpose
    note: str = ""


def public(**row: Any) -> Row:
    return Row(PUBLIC, {"anonymous": 200, "customer": 200, "staff": 200}, **row)


def owned(*, owner: int, other: int = 404, anonymous: int = 401, staff: int = 404, **row: Any) -> Row:
    return Row(OWNED, {"owner": owner, "other": other, "anonymous": anonymous, "staff": staff}, **row)


def staff_only(*, staff: int, **row: Any) -> Row:
    """``customer`` is the owner of what the row acts on: owning an order or a review does not
    let its customer refund, move or moderate it."""
    return Row(STAFF, {"customer": 403, "anonymous": 401, "staff": staff}, **row)


def auth(*, anonymous: int = 400, customer: int = 400, **row: Any) -> Row:
    """Called with an empty body: the endpoint's own validation answers, not an access rule."""
    return Row(AUTH, {"anonymous": anonymous, "customer": customer}, **row)


def webhook(**row: Any) -> Row:
    """An unsigned body is refused (400) whoever sends it: no token opens or closes the door."""
    return Row(WEBHOOK, {"anonymous": 400, "customer": 400, "staff": 400, "forged token": 400}, **row)


BOOK = {"args": lambda w: {"key": w.book.isbn13}}
BOOK_SLUG = {"args": lambda w: {"book": w.book.slug}}
AUTHOR = {"args": lambda w: {"slug": w.author.slug}}
PUBLISHER = {"args": lambda w: {"slug": w.publisher.slug}}
CATEGORY = {"args": lambda w: {"slug": w.category.slug}}
ADDRESS = {"args": lambda w: {"pk": w.address.pk}, "state": lambda w: _row_of(w.address)}
LINE = {
    "args": lambda w: {"pk": w.cart_line.pk},
    "state": lambda w: _row_of(w.cart_line),
    "setup": _everyone_else_has_a_cart_line,
}
ORDER = {
    "args": lambda w: {"number": w.order.number},
    "state": lambda w: (_row_of(w.order), list(w.order.payments.values("pk", "status", "provider"))),
}
PAID_ORDER = {
    "args": lambda w: {"number": w.paid_order.number},
    "state": lambda w: (
        _row_of(w.paid_order),
        list(Refund.objects.filter(payment__order=w.paid_order).values()),
    ),
}
REVIEW = {"args": lambda w: {"pk": w.review.pk}, "state": lambda w: _row_of(w.review)}
VOTE = {"args": lambda w: {"pk": w.voted_review.pk}, "state": _vote_of_owner}
NEW_ADDRESS = {
    "kind": "shipping",
    "name": "Zoé Martin",
    "line1": "3 rue Soufflot",
    "postal_code": "75005",
    "city": "Paris",
    "country": "FR",
}


ROWS: dict[tuple[str, str], Row] = {
    # --- Public reads -------------------------------------------------------------------------
    ("", "GET"): public(note="the API root"),
    ("books/", "GET"): public(),
    ("books/{key}/", "GET"): public(**BOOK),
    ("books/{book}/reviews/", "GET"): public(**BOOK_SLUG, note="published reviews only"),
    ("authors/", "GET"): public(),
    ("authors/{slug}/", "GET"): public(**AUTHOR),
    ("publishers/", "GET"): public(),
    ("publishers/{slug}/", "GET"): public(**PUBLISHER),
    ("categories/", "GET"): public(),
    ("categories/{slug}/", "GET"): public(**CATEGORY),
    # --- The customer's own -------------------------------------------------------------------
    # The profile: whoever is signed in gets theirs; no id names anyone else's.
    ("me/", "GET"): owned(
        owner=200, other=200, staff=200, sees=lambda w, r: r.json()["email"] == w.owner.email
    ),
    ("me/", "PATCH"): owned(
        owner=200,
        other=200,
        staff=200,
        data=lambda w: {"first_name": "Renommé"},
        sees=lambda w, r: r.json()["email"] == w.owner.email,
        state=lambda w: _row_of(w.owner),
    ),
    ("me/addresses/", "GET"): owned(
        owner=200, other=200, staff=200, setup=lambda w: w.address, sees=lambda w, r: w.address.pk in _ids(r)
    ),
    ("me/addresses/", "POST"): owned(
        owner=201,
        other=201,
        staff=201,
        data=lambda w: NEW_ADDRESS,
        state=lambda w: list(Address.objects.filter(user=w.owner).values()),
    ),
    ("me/addresses/{pk}/", "GET"): owned(
        owner=200, **ADDRESS, sees=lambda w, r: r.json()["id"] == w.address.pk
    ),
    ("me/addresses/{pk}/", "PATCH"): owned(owner=200, **ADDRESS, data=lambda w: {"city": "Lyon"}),
    ("me/addresses/{pk}/", "DELETE"): owned(owner=204, **ADDRESS),
    # The cart: anonymous visitors have one of their own (by token), so nobody is a 401; a line
    # of someone else's cart is a 404 (test_a_visitors_cart_line_is_out_of_reach_of_everyone_else).
    ("cart/", "GET"): owned(
        owner=200,
        other=200,
        anonymous=200,
        staff=200,
        setup=lambda w: w.cart_line,
        sees=lambda w, r: w.cart_line.pk in _line_ids(r),
        note="anonymous: a new cart of their own",
    ),
    ("cart/", "DELETE"): owned(
        owner=204,
        other=204,
        anonymous=204,
        staff=204,
        setup=lambda w: w.cart_line,
        state=lambda w: _cart_lines(w.owner),
        note="empties the caller's own cart",
    ),
    ("cart/items/", "POST"): owned(
        owner=201,
        other=201,
        anonymous=201,
        staff=201,
        setup=lambda w: w.cart_line,
        data=lambda w: {"book": w.book.pk, "quantity": 1},
        sees=lambda w, r: w.cart_line.pk in _line_ids(r),
        state=lambda w: _cart_lines(w.owner),
        note="adds to the caller's own cart",
    ),
    ("cart/items/{pk}/", "PATCH"): owned(
        owner=200, anonymous=404, **LINE, data=lambda w: {"quantity": 2}, note="anonymous: not their cart"
    ),
    ("cart/items/{pk}/", "DELETE"): owned(owner=204, anonymous=404, **LINE, note="anonymous: not their cart"),
    # Orders, their payment and their refunds (shown in the order).
    ("orders/", "GET"): owned(
        owner=200,
        other=200,
        staff=200,
        setup=lambda w: w.order,
        sees=lambda w, r: w.order.number in _ids(r, "number"),
    ),
    ("orders/", "POST"): owned(
        owner=201,
        other=400,
        staff=400,
        setup=lambda w: (w.cart_line, _everyone_else_has_a_cart_line(w)),
        data=lambda w: {"shipping_address": w.address.pk, "payment_provider": "dummy"},
        state=lambda w: (list(w.owner.orders.values()), _cart_lines(w.owner)),
        note="checkout of the caller's cart; the owner's address id: 400, no address of yours has it",
    ),
    ("orders/{number}/", "GET"): owned(
        owner=200,
        **PAID_ORDER,
        sees=lambda w, r: r.json()["number"] == w.paid_order.number and len(r.json()["refunds"]) == 1,
    ),
    ("orders/{number}/cancel/", "POST"): owned(owner=200, **ORDER),
    ("orders/{number}/pay/", "POST"): owned(owner=200, **ORDER),
    ("orders/{number}/capture/", "POST"): owned(
        owner=200, **ORDER, note="the customer's, on their return from PayPal: not staff-only"
    ),
    # Reviews: the author edits or deletes theirs; votes are the voter's.
    ("me/reviews/", "GET"): owned(
        owner=200, other=200, staff=200, setup=lambda w: w.review, sees=lambda w, r: w.review.pk in _ids(r)
    ),
    ("books/{book}/reviews/", "POST"): owned(
        owner=201,
        other=201,
        staff=201,
        **BOOK_SLUG,
        data=lambda w: {"rating": 5, "title": "Superbe", "user": w.owner.pk},
        state=lambda w: list(Review.objects.filter(user=w.owner).values()),
        note="writes the caller's own review; a user named in the body is ignored",
    ),
    ("reviews/{pk}/", "GET"): owned(
        owner=200,
        anonymous=404,
        staff=200,
        staff_allowed=True,
        **REVIEW,
        sees=lambda w, r: r.json()["id"] == w.review.pk,
        note="a pending review: published ones are public; staff read any (ReviewViewSet.retrieve)",
    ),
    ("reviews/{pk}/", "PATCH"): owned(owner=200, **REVIEW, data=lambda w: {"rating": 1}),
    ("reviews/{pk}/", "DELETE"): owned(owner=204, **REVIEW),
    ("reviews/{pk}/helpful/", "POST"): owned(
        owner=200, other=201, staff=201, **VOTE, note="anyone signed in votes, once; the owner had voted"
    ),
    ("reviews/{pk}/helpful/", "DELETE"): owned(
        owner=204, other=204, staff=204, **VOTE, note="takes back the caller's own vote only"
    ),
    # --- Staff only ---------------------------------------------------------------------------
    ("books/", "POST"): staff_only(
        staff=201,
        data=lambda w: {"isbn13": "9780306406157", "title": "Nouveau", "price": "12.00"},
        state=lambda w: list(Book.objects.values_list("pk", "title")),
    ),
    ("books/{key}/", "PATCH"): staff_only(
        staff=200, **BOOK, data=lambda w: {"title": "Retitré"}, state=lambda w: _row_of(w.book)
    ),
    ("books/{key}/", "DELETE"): staff_only(staff=204, **BOOK, state=lambda w: _row_of(w.book)),
    ("books/{key}/cover/", "POST"): staff_only(
        staff=400,
        **BOOK,
        data=lambda w: {},
        format="multipart",
        state=lambda w: _row_of(w.book),
        note="staff: 400 for the missing file",
    ),
    ("authors/", "POST"): staff_only(
        staff=201, data=lambda w: {"name": "Colette"}, state=lambda w: list(Author.objects.values())
    ),
    ("authors/{slug}/", "PATCH"): staff_only(
        staff=200, **AUTHOR, data=lambda w: {"name": "Renommé"}, state=lambda w: _row_of(w.author)
    ),
    ("authors/{slug}/", "DELETE"): staff_only(staff=204, **AUTHOR, state=lambda w: _row_of(w.author)),
    ("publishers/", "POST"): staff_only(
        staff=201, data=lambda w: {"name": "Minuit"}, state=lambda w: list(Publisher.objects.values())
    ),
    ("publishers/{slug}/", "PATCH"): staff_only(
        staff=200, **PUBLISHER, data=lambda w: {"name": "Renommé"}, state=lambda w: _row_of(w.publisher)
    ),
    ("publishers/{slug}/", "DELETE"): staff_only(
        staff=204, **PUBLISHER, state=lambda w: _row_of(w.publisher)
    ),
    ("categories/", "POST"): staff_only(
        staff=201, data=lambda w: {"name": "Poésie"}, state=lambda w: list(Category.objects.values())
    ),
    ("categories/{slug}/", "PATCH"): staff_only(
        staff=200, **CATEGORY, data=lambda w: {"name": "Renommée"}, state=lambda w: _row_of(w.category)
    ),
    ("categories/{slug}/", "DELETE"): staff_only(staff=204, **CATEGORY, state=lambda w: _row_of(w.category)),
    ("orders/{number}/refund/", "POST"): staff_only(
        staff=201, **PAID_ORDER, data=lambda w: {"reason": "Arrived late."}
    ),
    ("orders/{number}/transition/", "POST"): staff_only(
        staff=200, **PAID_ORDER, data=lambda w: {"status": "processing"}
    ),
    ("reviews/", "GET"): staff_only(staff=200, note="the moderation queue"),
    ("reviews/{pk}/moderate/", "POST"): staff_only(
        staff=200, **REVIEW, data=lambda w: {"action": "approve"}, note="customer: the review's own author"
    ),
    # --- Authentication -----------------------------------------------------------------------
    ("auth/token/", "POST"): auth(),
    ("auth/token/refresh/", "POST"): auth(),
    ("auth/logout/", "POST"): auth(),
    ("auth/register/", "POST"): auth(),
    ("auth/verify-email/", "POST"): auth(),
    ("auth/verify-email/resend/", "POST"): auth(),
    ("auth/password-reset/", "POST"): auth(),
    ("auth/password-reset/confirm/", "POST"): auth(),
    ("auth/password-change/", "POST"): auth(anonymous=401, note="the signed-in caller's own password"),
    # --- Webhooks -----------------------------------------------------------------------------
    ("payments/webhooks/{provider}/", "POST"): webhook(
        args=lambda w: {"provider": "dummy"}, data=lambda w: "not a signed event"
    ),
}


# --- Running a row ----------------------------------------------------------------------------


def client_as(world: World, actor: str) -> APIClient:
    client = APIClient()
    user = {"owner": world.owner, "customer": world.owner, "other": world.other, "staff": world.staff}.get(
        actor
    )
    if user is not None:
        client.force_authenticate(user)
    elif actor == "forged token":
        client.credentials(HTTP_AUTHORIZATION="Bearer forged.token.here")
    return client


def url_of(world: World, route: str, row: Row) -> str:
    return API + route.format(**row.args(world))


def call(client: APIClient, method: str, url: str, row: Row, data: Any = None) -> Any:
    if method == "GET":
        return client.get(url, data)
    return getattr(client, method.lower())(url, data, format=row.format)


def exercise(world: World, endpoint: tuple[str, str], actor: str) -> tuple[Any, Any, Any]:
    """Call the row's endpoint as ``actor``; return the answer and the row's state before and after."""
    route, method = endpoint
    row = ROWS[endpoint]
    if row.setup is not None:
        row.setup(world)
    url = url_of(world, route, row)
    before = row.state(world) if row.state else None
    response = call(client_as(world, actor), method, url, row, row.data(world) if row.data else None)
    after = row.state(world) if row.state else None
    return response, before, after


def cases(kind: str) -> list:
    return [
        pytest.param(endpoint, actor, id=f"{endpoint[1]} {endpoint[0] or '/'} as {actor}")
        for endpoint, row in ROWS.items()
        if row.kind == kind
        for actor in row.expect
    ]


def explain(response: Any) -> str:
    return f"{response.status_code}: {response.content[:300]!r}"


# --- The table is the API ---------------------------------------------------------------------


def test_every_endpoint_the_api_serves_has_a_row():
    missing = served_endpoints() - ROWS.keys()
    assert not missing, f"Endpoints with no row in ROWS (say who may call them): {sorted(missing)}"


def test_every_row_names_an_endpoint_the_api_serves():
    stale = ROWS.keys() - served_endpoints()
    assert not stale, f"Rows for endpoints the API no longer serves: {sorted(stale)}"


def test_the_walk_finds_what_the_routers_register():
    # Guards the walker itself: viewset routes, their actions and plain views are all seen.
    served = served_endpoints()
    assert {("me/addresses/{pk}/", "PATCH"), ("orders/{number}/refund/", "POST"), ("me/", "PATCH")} <= served
    assert ("me/addresses/{pk}/", "PUT") not in served  # mapped by the router, refused by the view
    assert len(served) == len(ROWS)


def test_someone_elses_resource_is_never_a_403_in_the_table():
    for endpoint, row in ROWS.items():
        if row.kind == OWNED:
            assert 403 not in (row.expect["other"], row.expect["staff"]), endpoint
            # Staff reach a customer's resource only where a row says the code means it.
            assert row.staff_allowed or row.expect["staff"] in (404, row.expect["other"]), endpoint


def test_methods_without_a_row_answer_405(monkeypatch):
    """What the table leaves out is really not served: each other method is refused, even to staff."""
    # Even a 405 spends the strict "auth" allowance, and this test makes many calls.
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "auth": None}
    )
    world = World()
    client = client_as(world, "staff")
    served = served_endpoints()
    wrong = []
    for route in sorted({route for route, _ in ROWS}):
        row = next(row for (r, _), row in ROWS.items() if r == route)
        url = url_of(world, route, row)
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - {m for r, m in served if r == route}:
            response = call(client, method, url, row)
            if response.status_code != 405:
                wrong.append((method, route, response.status_code))
    assert not wrong


# --- Customer-owned ---------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "actor"), cases(OWNED))
def test_a_customers_own_resource(endpoint, actor):
    world = World()
    row = ROWS[endpoint]
    response, before, after = exercise(world, endpoint, actor)

    assert response.status_code == row.expect[actor], explain(response)
    if actor == "owner" or (actor == "staff" and row.staff_allowed):
        if row.sees is not None:
            assert row.sees(world, response), explain(response)
        return
    if response.status_code == 404:
        # Like an unknown id: a problem that says nothing about whose it is.
        assert response["Content-Type"] == PROBLEM
        assert world.owner.email not in response.content.decode()
    elif response.status_code < 300 and row.sees is not None:
        assert not row.sees(world, response), f"{actor} was shown the owner's data: {explain(response)}"
    assert after == before, f"{actor} changed the owner's data"


def test_a_visitors_cart_line_is_out_of_reach_of_everyone_else():
    world = World()
    visitor = APIClient()
    token = visitor.get(f"{API}cart/").json()["token"]
    added = visitor.post(f"{API}cart/items/", {"book": world.book.pk, "quantity": 1}, HTTP_X_CART_TOKEN=token)
    assert added.status_code == 201
    [line_id] = _line_ids(added)
    url = f"{API}cart/items/{line_id}/"

    another_visitor = APIClient()
    another_visitor.credentials(HTTP_X_CART_TOKEN=another_visitor.get(f"{API}cart/").json()["token"])
    # A signed-in customer's token header is ignored: they have their own cart.
    customer_with_the_token = client_as(world, "other")
    customer_with_the_token.credentials(**{f"HTTP_{CART_HEADER.upper().replace('-', '_')}": token})
    intruders = {
        "another visitor": another_visitor,
        "a visitor without a token": APIClient(),
        "a customer": client_as(world, "other"),
        "a customer sending the token": customer_with_the_token,
        "staff": client_as(world, "staff"),
    }
    for who, client in intruders.items():
        assert client.patch(url, {"quantity": 3}).status_code == 404, who
        assert client.delete(url).status_code == 404, who
    assert CartLine.objects.get(pk=line_id).quantity == 1

    assert visitor.patch(url, {"quantity": 3}, HTTP_X_CART_TOKEN=token).status_code == 200
    assert CartLine.objects.get(pk=line_id).quantity == 3


# --- Staff only -------------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "actor"), cases(STAFF))
def test_a_staff_only_endpoint(endpoint, actor):
    world = World()
    row = ROWS[endpoint]
    response, before, after = exercise(world, endpoint, actor)

    assert response.status_code == row.expect[actor], explain(response)
    if actor != "staff":
        assert response["Content-Type"] == PROBLEM
        assert after == before, f"{actor} changed something"
    elif row.state is not None and response.status_code < 300:
        assert after != before, "staff's write changed nothing"


# --- Public, auth and webhooks ----------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "actor"), cases(PUBLIC))
def test_a_public_read(endpoint, actor):
    response, _, _ = exercise(World(), endpoint, actor)
    assert response.status_code == ROWS[endpoint].expect[actor], explain(response)


@pytest.mark.parametrize(("endpoint", "actor"), cases(AUTH))
def test_an_auth_endpoint(endpoint, actor):
    response, _, _ = exercise(World(), endpoint, actor)
    assert response.status_code == ROWS[endpoint].expect[actor], explain(response)
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize(("endpoint", "actor"), cases(WEBHOOK))
def test_a_webhook(endpoint, actor):
    response, _, _ = exercise(World(), endpoint, actor)
    assert response.status_code == ROWS[endpoint].expect[actor], explain(response)
    assert response.json()["code"] == "webhook_invalid"
