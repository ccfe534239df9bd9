from bookstore.exceptions import ApplicationError, Conflict, InvalidInput, NotFound


class OutOfStock(Conflict):
    """Some books have fewer copies than asked. ``shortages`` maps book id → copies available."""

    code = "out_of_stock"
    title = "Not enough copies in stock."

    def __init__(self, shortages: dict[int, int], message: str | None = None):
        self.shortages = shortages
        super().__init__(message or "Not enough copies in stock.")


class DuplicateIsbn(Conflict):
    code = "duplicate_isbn"
    title = "A book with this ISBN already exists."


class InvalidCover(ApplicationError):
    """The uploaded cover is not a JPEG, PNG or WebP image Pillow can read, or is too big."""

    status = 400
    code = "invalid_cover"
    title = "The cover image was refused."


class InUse(Conflict):
    """An author or publisher that books still refer to cannot be deleted."""

    code = "in_use"
    title = "Books still refer to this record."


class SlugTaken(Conflict):
    """Another author or publisher already has this slug (slugs name them in URLs)."""

    code = "slug_taken"
    title = "This slug is already in use."


class BookNotFound(NotFound):
    code = "not_found"


class AuthorNotFound(NotFound):
    code = "not_found"


class PublisherNotFound(NotFound):
    code = "not_found"


class InvalidFilter(InvalidInput):
    """A query parameter of the book list that does not parse (an unknown format, a bad price)."""
