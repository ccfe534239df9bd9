"""The root of the shop's domain errors.

Each app subclasses ``ApplicationError`` in its own ``exceptions.py`` (``OutOfStock``,
``InvalidTransition`` …). The API's exception handler renders every one of them as a problem
details body with the class's ``status`` and ``code``; the storefront shows ``message``.
"""

from typing import Any


class ApplicationError(Exception):
    status: int = 400
    code: str = "application_error"
    title: str = "The request could not be carried out."

    def __init__(
        self, message: str | None = None, *, errors: dict[str, list[str]] | None = None, **extra: Any
    ):
        self.message = message or self.title
        self.errors = errors
        self.extra = extra
        super().__init__(self.message)


class Conflict(ApplicationError):
    status = 409
    code = "conflict"
    title = "The request conflicts with the current state of the resource."


class NotFound(ApplicationError):
    """What was asked for does not exist (or is not the caller's to see: the same answer)."""

    status = 404
    code = "not_found"
    title = "Not Found"


class InvalidInput(ApplicationError):
    """Input a service or selector refuses; ``errors`` names the fields, as a form would."""

    status = 400
    code = "validation_error"
    title = "Invalid input."
