from bookstore.exceptions import ApplicationError, Conflict, NotFound


class CategoryCycle(ApplicationError):
    """A category cannot be moved under itself or one of its descendants."""

    status = 400
    code = "category_cycle"
    title = "A category cannot be moved under itself or one of its descendants."


class CategoryNotEmpty(Conflict):
    """A category that still has books or children cannot be deleted."""

    code = "category_not_empty"
    title = "The category still has books or subcategories."


class CategorySlugTaken(ApplicationError):
    """Another category has this slug (the serializer checks first; this is the race)."""

    status = 400
    code = "slug_taken"
    title = "Another category already has this slug."


class CategoryTooDeep(ApplicationError):
    """The tree is at most ``MAX_DEPTH`` levels below a root."""

    status = 400
    code = "category_too_deep"
    title = "The category tree would be too deep."


class CategoryNotFound(NotFound):
    code = "not_found"
