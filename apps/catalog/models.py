from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from bookstore.models import TimeStampedModel


class Author(TimeStampedModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    bio = models.TextField(blank=True)

    class Meta:
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        ordering = ["name"]
        # Imports find names case-insensitively, a batch's thousand names at once.
        indexes = [models.Index(Lower("name"), name="catalog_author_name_lower")]

    def __str__(self) -> str:
        return self.name


class Publisher(TimeStampedModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)

    class Meta:
        verbose_name = _("publisher")
        verbose_name_plural = _("publishers")
        ordering = ["name"]
        # Imports find names case-insensitively, a batch's thousand names at once.
        indexes = [models.Index(Lower("name"), name="catalog_publisher_name_lower")]

    def __str__(self) -> str:
        return self.name


class BookFormat(models.TextChoices):
    HARDCOVER = "hardcover", _("Hardcover")
    PAPERBACK = "paperback", _("Paperback")
    EBOOK = "ebook", _("E-book")
    AUDIOBOOK = "audiobook", _("Audiobook")


def _shop_currency() -> str:
    return settings.SHOP_CURRENCY


def validate_isbn13(value: str) -> None:
    from .isbn import InvalidIsbn, isbn_normalize

    try:
        normalized = isbn_normalize(value)
    except InvalidIsbn as error:
        raise ValidationError(str(error), code="invalid_isbn") from error
    if normalized != value:
        raise ValidationError("Store the ISBN-13 without separators.", code="invalid_isbn")


class Book(TimeStampedModel):
    isbn13 = models.CharField(_("ISBN-13"), max_length=13, unique=True, validators=[validate_isbn13])
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    slug = models.SlugField(max_length=320, unique=True)
    authors = models.ManyToManyField(Author, through="BookAuthor", related_name="books")
    publisher = models.ForeignKey(
        Publisher, null=True, blank=True, related_name="books", on_delete=models.PROTECT
    )
    categories = models.ManyToManyField("categories.Category", related_name="books", blank=True)
    publication_date = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=2, help_text="ISO 639-1 code", default="fr")
    format = models.CharField(max_length=12, choices=BookFormat.choices, default=BookFormat.PAPERBACK)
    pages = models.PositiveIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)
    # None: not for sale (an import without a usable price in the shop's currency), until staff
    # set one; the book is shown, but not sold.
    price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default=_shop_currency)
    stock = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    is_active = models.BooleanField(default=True)
    cover = models.ImageField(upload_to="covers/", blank=True)
    # Width (as a string, JSON keys) → storage name of each thumbnail, written by the cover task.
    cover_thumbnails = models.JSONField(default=dict, blank=True, editable=False)
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0.00"))
    rating_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("book")
        verbose_name_plural = _("books")
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="catalog_book_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="catalog_book_price_not_negative"),
        ]
        indexes = [
            # The id, the orderings' last key, in the index too: a page is read off the index
            # in order (with the title alone, every page sorted the rows of its OFFSET by id
            # again: page 50 of the list took 2.5 ms in PostgreSQL, 1.3 with the id).
            models.Index(fields=["is_active", "title", "id"], name="catalog_book_active_title_id"),
            models.Index(fields=["is_active", "price", "id"], name="catalog_book_active_price_id"),
            # A list filtered by language and ordered or bounded by price (the facets' two
            # commonest filters): the scan stays in the language (at 100,000 books, 55 ms to 11).
            models.Index(fields=["is_active", "language", "price"]),
            models.Index(fields=["is_active", "publication_date"]),
            models.Index(fields=["is_active", "-created_at"]),
            models.Index(fields=["is_active", "-rating_average"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def for_sale(self) -> bool:
        """Whether a customer can buy it: on sale and priced."""
        return self.is_active and self.price is not None


class BookAuthor(models.Model):
    """An author of a book, in the order the cover gives them."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="book_authors")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="book_authors")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("book author")
        verbose_name_plural = _("book authors")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["book", "author"], name="catalog_bookauthor_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.author} ({self.position})"


# --- Search index (``apps.catalog.search``) -----------------------------------------------------


class SearchTerm(models.Model):
    """A folded word of the catalogue or a stem of one; ``books`` counts its postings (kept by
    ``search_index_refresh``, used to start from the rarest word and to keep a prefix's most
    common words)."""

    class Kind(models.IntegerChoices):
        WORD = 0, "word"
        STEM = 1, "stem"

    # Byte order on PostgreSQL (a "C" collation, set by the migration): a prefix is a range.
    text = models.CharField(max_length=200)
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    books = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["text", "kind"], name="catalog_searchterm_unique")]

    def __str__(self) -> str:
        return self.text


class SearchDelete(models.Model):
    """A symmetric-delete key of a word term: the 64-bit hash of the word with up to one letter
    deleted (from 4 letters) or two (from 7). A query word shares a key with every word within
    its typo budget."""

    key = models.BigIntegerField()
    # No foreign-key constraint in the database (here and on the postings): the index is derived
    # data, written only by ``search.index``, and an import's batch writes ten thousand postings,
    # whose deferred checks (a key-share lock on a term and a book for each) doubled its cost in
    # PostgreSQL. Deleting a book or a term still deletes its rows (Django's CASCADE), and a
    # search reads books through the catalogue's own tables, so a stray row finds nothing.
    term = models.ForeignKey(
        SearchTerm, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        indexes = [models.Index(fields=["key", "term"], name="catalog_searchdelete_key")]

    def __str__(self) -> str:
        return str(self.key)


class SearchPosting(models.Model):
    """A term in a field of a book. ``length`` is the number of distinct words of that field: a
    query of as many words, all found as typed in the title, is the whole title."""

    class Field(models.IntegerChoices):
        TITLE = 0, "title"
        SUBTITLE = 1, "subtitle"
        AUTHOR = 2, "author"
        PUBLISHER = 3, "publisher"
        DESCRIPTION = 4, "description"

    # No surrogate id: the key is the index the searches read (by term, then book), and an
    # import writes tens of thousands of postings per batch.
    pk = models.CompositePrimaryKey("term", "book", "field")
    term = models.ForeignKey(
        SearchTerm, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    book = models.ForeignKey(
        Book, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    field = models.PositiveSmallIntegerField(choices=Field.choices)
    length = models.PositiveSmallIntegerField(default=0)

    class Meta:
        # A book's postings, rewritten when it changes (and their terms' counts with them).
        indexes = [models.Index(fields=["book", "term"], name="catalog_searchposting_book")]

    def __str__(self) -> str:
        return f"{self.term_id} in {self.book_id} ({self.field})"
