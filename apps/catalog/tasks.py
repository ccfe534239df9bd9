from celery import shared_task

from . import services


@shared_task(
    name="catalog.book_cover_thumbnails_make", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def book_cover_thumbnails_make(book_id: int) -> None:
    """Make the thumbnails of a book's cover; quietly does nothing when the book is gone."""
    services.book_cover_thumbnails_make(book_id=book_id)


@shared_task(
    name="catalog.book_cover_fetch",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
)
def book_cover_fetch(book_id: int, url: str) -> None:
    """Fetch a cover an import gave by URL (after the import's batch committed)."""
    services.book_cover_fetch(book_id=book_id, url=url)
