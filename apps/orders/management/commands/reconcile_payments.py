"""``manage.py reconcile_payments --order LB-XXXX-XXXX`` or ``--date 2026-12-01``.

Asks Stripe and PayPal where each payment of that order (or of the orders placed that day)
stands and applies it as a webhook would, printing one line per payment and what changed. Beat
does the same every two minutes for the payments that are due (``payments-reconcile``).
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.orders import services
from apps.orders.models import Order


class Command(BaseCommand):
    help = "Ask the payment providers about the payments of one order or one day, and apply what they say."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--order", metavar="NUMBER", help="an order number, e.g. LB-ABCD-EFGH")
        which.add_argument("--date", metavar="YYYY-MM-DD", help="every order placed that day (shop time)")

    def handle(self, *args: object, **options: str | None) -> None:
        day = None
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date {options['date']!r} is not a date like 2026-12-01.") from None
        if options["order"] and not Order.objects.filter(number=options["order"]).exists():
            raise CommandError(f"No order {options['order']!r}.")
        results = services.payments_reconcile_selected(order_number=options["order"] or "", day=day)
        if not results:
            self.stdout.write("No Stripe or PayPal payment to reconcile.")
            return
        changed = 0
        for result in results:
            after = result.outcome
            changed += after not in {services.Outcome.UNCHANGED, services.Outcome.PENDING}
            self.stdout.write(
                f"{result.order_number} payment {result.payment_id} ({result.provider} {result.reference}): "
                f"{result.before} -> {after}"
            )
        self.stdout.write(self.style.SUCCESS(f"{len(results)} payment(s) checked, {changed} changed."))
