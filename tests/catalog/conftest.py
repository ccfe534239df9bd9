from datetime import date
from decimal import Decimal

import pytest

from apps.catalog import services
from apps.categories.services import category_create


@pytest.fixture
def tree(db):
    """fiction > (sf > space-opera, crime); non-fiction."""
    fiction = category_create(name="Fiction", slug="fiction")
    sf = category_create(name="Science-fiction", slug="sf", parent=fiction)
    space = category_create(name="Space opera", slug="space-opera", parent=sf)
    crime = category_create(name="Crime", slug="crime", parent=fiction)
    nonfiction = category_create(name="Non-fiction", slug="non-fiction")
    return {"fiction": fiction, "sf": sf, "space-opera": space, "crime": crime, "non-fiction": nonfiction}


@pytest.fixture
def catalogue(tree):
    """Five real books, written through the services (search documents included)."""
    herbert = services.author_create(name="Frank Herbert")
    adams = services.author_create(name="Douglas Adams")
    marquez = services.author_create(name="Gabriel García Márquez")
    fry = services.author_create(name="Stephen Fry")
    ace = services.publisher_create(name="Ace Books")
    delrey = services.publisher_create(name="Del Rey")
    vintage = services.publisher_create(name="Vintage Espanol")
    books = {
        "dune": services.book_create(
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
        "hitchhiker": services.book_create(
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
        "cronica": services.book_create(
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
        "salmon": services.book_create(
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
        "hidden": services.book_create(
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
