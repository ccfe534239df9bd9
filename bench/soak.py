"""Soak: mixed traffic against gunicorn for minutes, then the figures that must hold.

    .venv/bin/python bench/soak.py [--seconds 300] [--concurrency 6] [--workers 2]

Customers browse the catalogue (the API's list, a search, a detail, the storefront's book
page), fill a cart, check out with Stripe (our local Stripe stand-in, the real ``stripe``
client pointed at it), and Stripe "pays" and sends the signed ``payment_intent.succeeded``
webhook, delivered twice now and then, as Stripe does. A few books have 3 copies only, so
checkouts race for them. At the end the script prints the requests per kind and status, and
checks: no 5xx, no book sold beyond its stock (orders counted from the database), every paid
order paid once, and the gunicorn workers' memory (resident set, start after warm-up and end).
Exits non-zero if a check fails.

Uses its own PostgreSQL database (``BENCH_SOAK_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/bookstore_bench_soak, created if missing) and Redis
database 15, like the other benchmarks (bench/harness.py). Targets 127.0.0.1 only.
"""

import argparse
import json
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from harness import (
    ROOT,
    Request,
    bench_env,
    call,
    connect,
    fetch,
    flush_redis,
    gunicorn,
    prepare_database,
    run_child,
    setup_django,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench_soak"
WEBHOOK_SECRET = "whsec_soak"  # noqa: S105 (the stand-in's, for this run only)
SCARCE_STOCK = 3
PASSWORD = "Soak-test-password-2026"  # noqa: S105 (the bench customers', in a bench database)
ADDRESS = {
    "name": "Léa Martin",
    "line1": "12 rue des Écoles",
    "postal_code": "75005",
    "city": "Paris",
    "country": "FR",
}


def seed(customers: int) -> None:
    """In a child process: the demo catalogue, five scarce books, and the customers."""
    setup_django()
    from apps.accounts.models import User
    from apps.catalog.demo import demo_catalog_load
    from apps.catalog.models import Book
    from apps.orders.models import Order

    demo_catalog_load()
    Order.objects.all().delete()
    Book.objects.update(stock=500)
    scarce = list(Book.objects.order_by("pk").values_list("pk", flat=True)[:5])
    Book.objects.filter(pk__in=scarce).update(stock=SCARCE_STOCK)
    User.objects.filter(email__endswith="@soak.example").delete()
    for n in range(customers):
        User.objects.create_user(email=f"reader{n}@soak.example", password=PASSWORD, email_verified=True)
    books = list(Book.objects.filter(is_active=True).values("pk", "slug"))
    print("SEED" + json.dumps({"scarce": scarce, "books": books}))


def report(scarce: list[int]) -> None:
    """In a child process: what the database says after the soak."""
    setup_django()
    from django.db.models import Count, Sum

    from apps.catalog.models import Book
    from apps.orders.models import Order, OrderLine, OrderStatus, Payment, PaymentStatus

    kept = [OrderStatus.PAID, OrderStatus.PENDING_PAYMENT, OrderStatus.PROCESSING]
    sold = dict(
        OrderLine.objects.filter(book_id__in=scarce, order__status__in=kept)
        .values_list("book_id")
        .annotate(total=Sum("quantity"))
        .values_list("book_id", "total")
    )
    stock = dict(Book.objects.filter(pk__in=scarce).values_list("pk", "stock"))
    twice = (
        Payment.objects.filter(status=PaymentStatus.SUCCEEDED)
        .values("order_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    print(
        "REPORT"
        + json.dumps(
            {
                "orders": dict(Counter(Order.objects.values_list("status", flat=True))),
                "scarce": {str(pk): {"sold": sold.get(pk, 0), "left": stock[pk]} for pk in scarce},
                "paid_twice": twice,
            }
        )
    )


def rss_kib(pids: list[int]) -> dict[int, int]:
    sizes = {}
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes[pid] = int(line.split()[1])
    return sizes


def worker_pids(port: int) -> list[int]:
    """gunicorn's workers: the children of the process listening with this bind address."""
    bind = f"127.0.0.1:{port}"
    processes = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if "gunicorn" in cmdline and bind in cmdline:
            processes[int(proc.name)] = parent
    return sorted(pid for pid, parent in processes.items() if parent in processes)


class Soak:
    def __init__(self, port: int, stripe, books: list[dict], scarce: list[int], seconds: float):
        self.port, self.stripe, self.books, self.scarce = port, stripe, books, set(scarce)
        self.deadline = time.monotonic() + seconds
        self.statuses: Counter = Counter()
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def request(self, connection, kind: str, method: str, path: str, body=None, headers=None):
        try:
            status, payload = call(connection, Request(method, path, body, headers))
        except OSError as error:
            status, payload = 0, str(error).encode()
        with self.lock:
            self.statuses[(kind, status)] += 1
            if status == 0 or status >= 500:
                self.failures.append(f"{method} {path} -> {status}: {payload[:200]!r}")
        return status, payload

    def webhook(self, connection, intent_id: str) -> None:
        from tests.standins.stripe_api import sign

        event = self.stripe.intent_event("payment_intent.succeeded", intent_id)
        body = json.dumps(event).encode()
        for _ in range(2 if random.random() < 0.3 else 1):  # Stripe delivers at least once
            connection.request(
                "POST",
                "/api/v1/payments/webhooks/stripe/",
                body=body,
                headers={"Content-Type": "application/json", "Stripe-Signature": sign(body, WEBHOOK_SECRET)},
            )
            response = connection.getresponse()
            response.read()
            with self.lock:
                self.statuses[("webhook", response.status)] += 1
                if response.status >= 500:
                    self.failures.append(f"webhook {intent_id} -> {response.status}")

    def customer(self, number: int) -> None:
        rng = random.Random(number)
        connection = connect(self.port)
        status, body = self.request(
            connection,
            "sign in",
            "POST",
            "/api/v1/auth/token/",
            {"email": f"reader{number}@soak.example", "password": PASSWORD},
        )
        if status != 200:
            self.failures.append(f"reader{number} could not sign in: {status} {body[:200]!r}")
            return
        auth = {"Authorization": f"Bearer {json.loads(body)['access']}"}
        while time.monotonic() < self.deadline:
            book = rng.choice(self.books)
            self.request(
                connection, "browse", "GET", f"/api/v1/books/?page={rng.randint(1, 10)}&facets=false"
            )
            self.request(
                connection, "search", "GET", f"/api/v1/books/?q={rng.choice(['prince', 'harry', 'nuit'])}"
            )
            self.request(connection, "detail", "GET", f"/api/v1/books/{book['slug']}/")
            self.request(connection, "book page", "GET", f"/books/{book['slug']}/")
            if rng.random() < 0.4:
                wanted = rng.choice(sorted(self.scarce)) if rng.random() < 0.3 else book["pk"]
                self.request(
                    connection, "cart", "POST", "/api/v1/cart/items/", {"book": wanted, "quantity": 1}, auth
                )
                status, body = self.request(
                    connection,
                    "checkout",
                    "POST",
                    "/api/v1/orders/",
                    {"shipping_address": ADDRESS, "payment_provider": "stripe"},
                    {**auth, "Idempotency-Key": str(uuid.uuid4())},
                )
                if status == 409:  # the cart changed (a scarce book sold out): empty it
                    self.request(connection, "cart", "DELETE", "/api/v1/cart/", None, auth)
                elif status == 201:
                    payment = json.loads(body)["payment"]
                    intent_id = payment["reference"]
                    if rng.random() < 0.9:
                        self.stripe.succeed(intent_id)
                        self.webhook(connection, intent_id)
        connection.close()


def _at(samples: list[tuple[float, int]], seconds: float) -> int:
    """The sample taken closest to ``seconds``."""
    return min(samples, key=lambda sample: abs(sample[0] - seconds))[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed-only", type=int, metavar="CUSTOMERS", help=argparse.SUPPRESS)
    parser.add_argument("--report-only", metavar="SCARCE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only is not None:
        seed(args.seed_only)
        return
    if args.report_only is not None:
        report(json.loads(args.report_only))
        return

    sys.path.insert(0, str(ROOT))
    from tests.standins.stripe_api import DEFAULT_PUBLISHABLE_KEY, DEFAULT_SECRET_KEY, StripeStandIn

    database_url = os.environ.get("BENCH_SOAK_DATABASE_URL", DEFAULT_DB)
    with StripeStandIn() as stripe:
        env = bench_env(
            database_url,
            STRIPE_SECRET_KEY=DEFAULT_SECRET_KEY,
            STRIPE_PUBLISHABLE_KEY=DEFAULT_PUBLISHABLE_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=stripe.url,
            LOGIN_LOCKOUT_FAILURES="1000",
            THROTTLE_AUTH="10000/min",
            # Sent to nowhere: the console would flood the output, memory would keep them.
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        )
        prepare_database(database_url, env)
        flush_redis()
        seeded = json.loads(
            run_child([__file__, "--seed-only", str(args.concurrency)], env, capture=True).split("SEED", 1)[1]
        )
        with gunicorn(env, args.workers) as port:
            for book in seeded["books"][:20]:  # warm-up: every worker has imported and connected
                fetch(port, Request("GET", f"/books/{book['slug']}/"))
            pids = worker_pids(port)
            soak = Soak(port, stripe, seeded["books"], seeded["scarce"], args.seconds)
            started = time.monotonic()
            samples: list[tuple[float, int]] = []  # (seconds, total RSS of the workers in KiB)
            threads = [threading.Thread(target=soak.customer, args=(n,)) for n in range(args.concurrency)]
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                samples.append((time.monotonic() - started, sum(rss_kib(pids).values())))
                for thread in threads:
                    thread.join(timeout=max(args.seconds / 20, 1) / len(threads))
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            samples.append((elapsed, sum(rss_kib(pids).values())))
        final = json.loads(
            run_child([__file__, "--report-only", json.dumps(seeded["scarce"])], env, capture=True).split(
                "REPORT", 1
            )[1]
        )

    total = sum(soak.statuses.values())
    print(
        f"soak: {total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s), "
        f"{args.concurrency} customers, {args.workers} workers"
    )
    for (kind, status), count in sorted(soak.statuses.items()):
        print(f"  {kind:<10} {status}: {count}")
    print(f"orders by status: {final['orders']}")
    oversold = {
        pk: row for pk, row in final["scarce"].items() if row["sold"] > SCARCE_STOCK or row["left"] < 0
    }
    print(f"scarce books ({SCARCE_STOCK} copies each): {final['scarce']}")
    # Flat memory: what the workers hold half-way (warmed up: caches filled, connections open)
    # is what they hold at the end, give or take 5 %.
    start_kib, middle_kib, end_kib = samples[0][1], _at(samples, elapsed / 2), samples[-1][1]
    print(
        f"workers' RSS ({len(pids)}): {start_kib / 1024:.1f} MiB at start, {middle_kib / 1024:.1f} MiB "
        f"half-way, {end_kib / 1024:.1f} MiB at the end "
        + " ".join(f"[{t:.0f}s {kib / 1024:.0f}]" for t, kib in samples[:: max(len(samples) // 10, 1)])
    )
    server_errors = sum(
        count for (kind, status), count in soak.statuses.items() if status == 0 or status >= 500
    )
    checks = {
        "no 5xx or failed connection": server_errors == 0 and not soak.failures,
        "no book sold beyond its stock": not oversold,
        "no order paid twice": final["paid_twice"] == 0,
        "workers' memory flat (end within 5 % of half-way)": end_kib <= middle_kib * 1.05,
    }
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    for failure in soak.failures[:20]:
        print(f"  {failure}")
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
