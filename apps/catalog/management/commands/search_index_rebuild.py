from django.core.management.base import BaseCommand
from django.db import transaction

from apps.catalog.search.index import search_index_rebuild
from bookstore.cache import catalog_version_bump


class Command(BaseCommand):
    help = (
        "Rebuild the search index (terms, typo keys, postings) of every book, in one transaction. "
        "Writes keep it fresh: needed only after a change of the folding rules."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            count = search_index_rebuild()
        catalog_version_bump()
        self.stdout.write(self.style.SUCCESS(f"Search index rebuilt: {count} books."))
