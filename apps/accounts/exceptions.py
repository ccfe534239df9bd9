"""Errors of the accounts domain, rendered as problem details by the API's handler."""

from bookstore.exceptions import ApplicationError

from .models import Address


class AddressNotFound(ApplicationError, Address.DoesNotExist):
    """No address with that id belongs to the user (another user's address is "not found" too).

    Also an ``Address.DoesNotExist``, so callers may catch either.
    """

    status = 404
    code = "not_found"
    title = "Not found."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "No such address.")


class InvalidToken(ApplicationError):
    """A verification or password reset token that is malformed, used or expired."""

    status = 400
    code = "invalid_token"
    title = "The link is invalid or has expired."


class AccountDeactivated(InvalidToken):
    """A valid link of an account an administrator deactivated: it cannot activate it."""

    code = "account_disabled"
    title = "This account is disabled."


class AccountInactive(ApplicationError):
    """Correct credentials, but the account may not sign in."""

    status = 403
    code = "account_disabled"
    title = "This account is disabled."


class EmailNotVerified(AccountInactive):
    code = "email_not_verified"
    title = "This account's email address is not verified yet."


class EmailTaken(ApplicationError):
    status = 400
    code = "validation_error"
    title = "Invalid input."


class AccountLocked(ApplicationError):
    """Too many refused sign-ins for this address lately; the same answer whether it has an account."""

    status = 429
    code = "account_locked"
    title = "Too many failed sign-ins for this address."
