from django.core.management.base import BaseCommand

from apps.catalog.demo import demo_catalog_load


class Command(BaseCommand):
    help = "Load the demo catalogue (real books, see apps/catalog/data/README.md); safe to run again."

    def handle(self, *args, **options):
        result = demo_catalog_load()
        for reason in result["skipped"]:
            self.stdout.write(f"skipped {reason}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalogue: {result['created']} books created, {result['updated']} updated, "
                f"{len(result['skipped'])} rows skipped, {result['categories']} categories."
            )
        )
