import secrets

import factory
from django.contrib.auth import get_user_model


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password("correct-horse-battery-staple")
    # An active customer has verified their address (registration makes unverified, inactive ones).
    email_verified = True


def _isbn13(n: int) -> str:
    """A valid ISBN-13 (978 prefix, correct check digit), different for each ``n``."""
    body = f"978{n % 10**9:09d}"
    check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body)) % 10) % 10
    return f"{body}{check}"


class BookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Book"

    isbn13 = factory.Sequence(_isbn13)
    title = factory.Sequence(lambda n: f"Livre {n}")
    slug = factory.Sequence(lambda n: f"livre-{n}")
    price = factory.Faker("pydecimal", left_digits=2, right_digits=2, min_value=5, max_value=60)
    stock = 20
    is_active = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # The search index is derived data the services keep: a book made here is indexed too.
        from apps.catalog.search.index import search_index_refresh

        book = super()._create(model_class, *args, **kwargs)
        search_index_refresh(book_ids=[book.pk])
        return book


# Models whose rows the tests build directly. Rows with invariants a service keeps (a
# category's path, an order's amounts) are made through that service instead.


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Author"

    name = factory.Faker("name", locale="fr_FR")
    slug = factory.Sequence(lambda n: f"auteur-{n}")


class PublisherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Publisher"

    name = factory.Sequence(lambda n: f"Éditions {n}")
    slug = factory.Sequence(lambda n: f"editions-{n}")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.Address"

    user = factory.SubFactory(UserFactory)
    kind = "shipping"
    name = factory.Faker("name", locale="fr_FR")
    line1 = factory.Sequence(lambda n: f"{n + 1} rue des Écoles")
    postal_code = "75005"
    city = "Paris"
    country = "FR"


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cart.Cart"

    class Params:
        # A visitor's cart: no user, found by its random token (as ``cart_create_anonymous`` makes).
        anonymous = factory.Trait(user=None, token=factory.LazyFunction(lambda: secrets.token_urlsafe(32)))

    user = factory.SubFactory(UserFactory)


class CartLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cart.CartLine"

    cart = factory.SubFactory(CartFactory)
    book = factory.SubFactory(BookFactory)
    quantity = 1
    price_when_added = factory.LazyAttribute(lambda line: line.book.price)


def category_make(name: str, *, parent=None, slug: str = ""):
    """A category through its service, which keeps the tree's path and depth."""
    from apps.categories.services import category_create

    return category_create(name=name, slug=slug, parent=parent)


def order_make(*, user=None, books=None, provider: str = "dummy", paid: bool = False):
    """An order placed through checkout (stock taken, amounts computed), paid if asked."""
    from apps.orders.services import order_mark_paid, order_place

    user = user or UserFactory()
    for book in books or [BookFactory()]:
        CartLineFactory(cart=CartFactory._meta.model.objects.get_or_create(user=user)[0], book=book)
    order, _ = order_place(
        user=user, shipping_address=AddressFactory(user=user).pk, payment_provider=provider
    )
    if paid:
        payment = order.payments.get()
        order = order_mark_paid(payment_id=payment.pk, amount=order.total, currency=order.currency)
    return order


def order_delivered_make(*, user, books):
    """An order of ``books`` paid, shipped and delivered to ``user`` (through the lifecycle)."""
    from apps.orders.models import OrderStatus
    from apps.orders.services import order_transition

    order = order_make(user=user, books=books, paid=True)
    order = order_transition(order=order, to_status=OrderStatus.PROCESSING)
    order = order_transition(order=order, to_status=OrderStatus.SHIPPED, tracking_number="TRACK-1")
    return order_transition(order=order, to_status=OrderStatus.DELIVERED)


def review_make(
    *, book=None, user=None, rating: int = 4, title: str = "", body: str = "", status: str | None = None
):
    """A review through its service (which keeps the book's rating), moderated to ``status``."""
    from apps.reviews.models import ReviewStatus
    from apps.reviews.services import review_create, review_moderate

    review = review_create(
        user=user or UserFactory(), book_id=(book or BookFactory()).pk, rating=rating, title=title, body=body
    )
    actions = {
        ReviewStatus.PUBLISHED: "approve",
        ReviewStatus.REJECTED: "reject",
        ReviewStatus.HIDDEN: "hide",
    }
    if status is not None and status != review.status:
        review = review_moderate(
            review=review, action=actions[status], moderator=UserFactory(is_staff=True), reason="test"
        )
    return review


def category_tree_make() -> dict:
    """fiction > (sf > space-opera, crime); non-fiction."""
    fiction = category_make("Fiction", slug="fiction")
    sf = category_make("Science-fiction", slug="sf", parent=fiction)
    space = category_make("Space opera", slug="space-opera", parent=sf)
    crime = category_make("Crime", slug="crime", parent=fiction)
    nonfiction = category_make("Non-fiction", slug="non-fiction")
    return {"fiction": fiction, "sf": sf, "space-opera": space, "crime": crime, "non-fiction": nonfiction}


def catalogue_make(tree: dict) -> dict:
    """Five real books in ``tree`` (``category_tree_make``), written through the services (search
    documents included); "hidden" is withdrawn."""
    from datetime import date
    from decimal import Decimal

    from apps.catalog import services as catalog_services

    herbert = catalog_services.author_create(name="Frank Herbert")
    adams = catalog_services.author_create(name="Douglas Adams")
    marquez = catalog_services.author_create(name="Gabriel García Márquez")
    fry = catalog_services.author_create(name="Stephen Fry")
    ace = catalog_services.publisher_create(name="Ace Books")
    delrey = catalog_services.publisher_create(name="Del Rey")
    vintage = catalog_services.publisher_create(name="Vintage Espanol")
    books = {
        "dune": catalog_services.book_create(
            isbn="9780441172696",
            title="Dune Messiah",
            authors=[herbert],
            publisher=ace,
            categories=[tree["space-opera"]],
            publication_date=date(1987, 7, 15),
            language="en",
            format="paperback",
            price=Decimal("9.99"),
            stock=3,
        ),
        "hitchhiker": catalog_services.book_create(
            isbn="9780345453747",
            title="The Ultimate Hitchhiker's Guide to the Galaxy",
            authors=[adams, fry],
            publisher=delrey,
            categories=[tree["sf"]],
            publication_date=date(2002, 4, 30),
            language="en",
            format="hardcover",
            price=Decimal("24.50"),
            stock=0,
        ),
        "cronica": catalog_services.book_create(
            isbn="9781400034956",
            title="Crónica de una muerte anunciada",
            authors=[marquez],
            publisher=vintage,
            categories=[tree["crime"]],
            publication_date=date(2003, 10, 14),
            language="es",
            format="paperback",
            price=Decimal("12.00"),
            stock=7,
        ),
        "salmon": catalog_services.book_create(
            isbn="9780345455291",
            title="The Salmon of Doubt",
            authors=[adams],
            publisher=delrey,
            categories=[tree["non-fiction"]],
            publication_date=date(2005, 4, 26),
            language="en",
            format="ebook",
            price=Decimal("55.00"),
            stock=1,
        ),
        "hidden": catalog_services.book_create(
            isbn="9780441102679",
            title="Chapterhouse",
            subtitle="Dune",
            authors=[herbert],
            publisher=ace,
            categories=[tree["space-opera"]],
            language="en",
            price=Decimal("8.00"),
            stock=4,
            is_active=False,
        ),
    }
    for book in books.values():
        book.refresh_from_db()
    return books
