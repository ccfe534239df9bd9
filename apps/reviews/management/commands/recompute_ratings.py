"""``manage.py recompute_ratings`` (optionally ``--book ID …``).

Recomputes every book's stored rating (``rating_count``, ``rating_average``) from the reviews
that count (published, by an active account), corrects those that drifted, and prints one line
per correction. The reviews service keeps the ratings exact as it writes; this is the check
after a restore, a manual fix in the database, or a bug.
"""

from django.core.management.base import BaseCommand, CommandParser

from apps.reviews.services import book_ratings_recompute


class Command(BaseCommand):
    help = "Recompute the books' ratings from their reviews and report any drift corrected."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--book", type=int, nargs="+", metavar="ID", help="only these books (ids)")

    def handle(self, *args: object, **options: list[int] | None) -> None:
        drifts = book_ratings_recompute(book_ids=options["book"])
        for drift in drifts:
            (was_count, was_average), (count, average) = drift.stored, drift.actual
            self.stdout.write(
                f"book {drift.book_id} “{drift.title}”: {was_count} review(s) averaging {was_average} "
                f"-> {count} averaging {average}"
            )
        style = self.style.WARNING if drifts else self.style.SUCCESS
        self.stdout.write(style(f"{len(drifts)} book rating(s) corrected."))
