"""Review errors."""

from bookstore.exceptions import ApplicationError, Conflict, NotFound


class ReviewNotFound(NotFound):
    """No such review, or not one the caller may see: the same answer."""


class ReviewExists(Conflict):
    """A customer writes one review per book; the existing one is edited instead."""

    code = "review_exists"


class OwnReviewVote(ApplicationError):
    status = 403
    code = "own_review_vote"
    title = "You cannot vote on your own review."


class InvalidModeration(ApplicationError):
    status = 400
    code = "invalid_moderation"
    title = "Invalid input."

    def __init__(self, field: str, message: str):
        super().__init__(message, errors={field: [message]})
