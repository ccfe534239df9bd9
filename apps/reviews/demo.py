"""Demo reviews, so that the first screens of a new machine show rated books.

A dozen demo readers (accounts with no usable password, under ``demo.librairie.example``)
review a deterministic share of the demo catalogue through the reviews service, so the books'
ratings are computed as in production. Safe to run again: a reader's existing review is kept.
"""

import hashlib
from typing import Any

from apps.accounts.models import User
from apps.catalog.models import Book

from .exceptions import ReviewExists
from .services import review_create

READERS = [
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Manon",
    "Jules",
    "Inès",
    "Gabriel",
    "Camille",
    "Arthur",
    "Zoé",
    "Nathan",
]
REVIEWS = {
    5: [
        ("Un coup de cœur", "Lu d\u2019une traite, je le relirai."),
        ("Magnifique", "Une écriture qui reste longtemps après la dernière page."),
        ("Indispensable", "À offrir autour de soi."),
    ],
    4: [("Très bon moment", "Quelques longueurs, mais une belle lecture."), ("Recommandé", "")],
    3: [("Correct", "Agréable sans être inoubliable.")],
    2: [("Déçu", "Je m\u2019attendais à mieux au vu des critiques.")],
}
# Most demo ratings are good ones, as a bookshop's shelves are.
RATINGS = [5, 5, 4, 4, 4, 3, 5, 4, 2, 5]


def _digest(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:8], 16)


def _reader(index: int, name: str) -> User:
    email = f"lecteur{index + 1}@demo.librairie.example"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None, first_name=name, last_name="Démo")
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


def demo_reviews_load() -> dict[str, Any]:
    """Write the demo reviews (published whatever ``REVIEWS_REQUIRE_APPROVAL`` says)."""
    readers = [_reader(index, name) for index, name in enumerate(READERS)]
    created = kept = 0
    books = Book.objects.filter(is_active=True).order_by("pk").values_list("pk", "isbn13")
    for book_id, isbn13 in books:
        share = _digest(isbn13)
        if share % 3 == 0:  # a third of the books have no review yet
            continue
        for reader in readers[: 1 + share % 5]:
            pick = _digest(isbn13, reader.email)
            rating = RATINGS[pick % len(RATINGS)]
            title, body = REVIEWS[rating][pick % len(REVIEWS[rating])]
            try:
                review_create(user=reader, book_id=book_id, rating=rating, title=title, body=body, held=False)
            except ReviewExists:
                kept += 1
            else:
                created += 1
    return {"created": created, "kept": kept, "readers": len(readers)}
