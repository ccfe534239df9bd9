from django.core.management.base import BaseCommand

from apps.reviews.demo import demo_reviews_load


class Command(BaseCommand):
    help = "Write the demo readers' reviews of the demo catalogue (load it first); safe to run again."

    def handle(self, *args, **options):
        result = demo_reviews_load()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo reviews: {result['created']} written, {result['kept']} kept, "
                f"by {result['readers']} readers."
            )
        )
