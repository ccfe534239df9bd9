from bookstore.exceptions import ApplicationError, Conflict


class CategoryCycle(ApplicationError):
    """A category cannot be moved under itself or one of its descendants."""

    status = 400
    code = "category_cycle"
    title = "A category cannot be moved under itself or one of its descendants."


class CategoryNotEmpty(Conflict):
    """A category that still has books or children cannot be deleted."""

    code = "category_not_empty"
    title = "The category still has books or subcategories."
