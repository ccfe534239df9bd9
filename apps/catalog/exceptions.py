from bookstore.exceptions import Conflict


class OutOfStock(Conflict):
    """Some books have fewer copies than asked. ``shortages`` maps book id → copies available."""

    code = "out_of_stock"
    title = "Not enough copies in stock."

    def __init__(self, shortages: dict[int, int], message: str | None = None):
        self.shortages = shortages
        super().__init__(message or "Not enough copies in stock.")
