"""Cart errors. Each names the input field at fault, so clients show it next to that field."""

from bookstore.exceptions import ApplicationError


class CartItemError(ApplicationError):
    status = 400
    code = "invalid_cart_item"
    title = "Invalid input."

    def __init__(self, field: str, message: str, **extra: object):
        super().__init__(message, errors={field: [message]}, **extra)


class BookUnavailable(CartItemError):
    """The book does not exist or is no longer sold."""

    code = "book_unavailable"


class QuantityOutOfRange(CartItemError):
    """A line holds from 1 to ``MAX_LINE_QUANTITY`` copies."""

    code = "quantity_out_of_range"


class InsufficientStock(CartItemError):
    """More copies asked than are in stock; ``available`` says how many there are."""

    code = "insufficient_stock"


class CartNotFound(ApplicationError):
    """The cart went away while the request ran (merged at a sign-in, or purged)."""

    status = 404
    code = "not_found"
    title = "Not found."


class CartLineNotFound(ApplicationError):
    """No such line in the caller's cart (whether or not it exists in someone else's)."""

    status = 404
    code = "not_found"
    title = "Not found."
