"""CPU time per request, in one process, through the whole WSGI handler and middleware:

    .venv/bin/python bench/cpu.py [--requests 2000] [--carts 200]

The baseline view, cached list and detail (anonymous and with a JWT), a first anonymous add to
cart and a signed-in checkout (cart line, then the order), against the database ``bench/run``
seeded (``BENCH_DATABASE_URL``, the same default) and Redis (``BENCH_REDIS_URL``), under
``bench.settings`` with a key prefix of this run's own. Wall-clock figures on a shared machine
move with the other processes; the CPU a request takes in its own process moves much less, so
this is the figure to compare before and after a change (best of five slices).

Run ``bench/run`` first (it seeds the books and customers). Writes carts and orders.
"""

import argparse
import io
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from harness import REDIS_URL, ROOT, bench_env, check_database_url
from perf import ADDRESS

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="per read scenario")
    parser.add_argument(
        "--carts", type=int, default=200, help="first adds to cart; a fifth as many checkouts"
    )
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    check_database_url(database_url)
    os.environ.update(
        bench_env(database_url, BENCH_CACHE_PREFIX=f"cpu-{uuid.uuid4().hex[:8]}", JWT_ACCESS_MINUTES="600")
    )
    os.environ["REDIS_URL"] = REDIS_URL
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler

    from apps.catalog.models import Book
    from bookstore.api.authentication import ShopRefreshToken

    app = WSGIHandler()

    def call(method: str, path: str, query: str = "", body: Any = None, **headers: str) -> tuple[str, dict]:
        data = json.dumps(body).encode() if body is not None else b""
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)),
        }
        environ.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
        answer: dict[str, Any] = {}

        def start(status: str, response_headers: list, exc_info: Any = None) -> None:
            answer["status"], answer["headers"] = status, dict(response_headers)

        b"".join(app(environ, start))
        return answer["status"], answer["headers"]

    def cpu(run: Callable[[int], Any], count: int) -> float:
        """µs of CPU per call: the best of five slices of ``count`` calls."""
        for i in range(min(count, 20)):
            run(i)
        slices = []
        for s in range(5):
            began = time.process_time()
            for i in range(count // 5):
                run(s * count + i)
            slices.append((time.process_time() - began) / (count // 5) * 1e6)
        return min(slices)

    book = Book.objects.filter(is_active=True).order_by("pk").first()
    if book is None:
        raise SystemExit("seed the bench database first: bench/run")
    customers = list(get_user_model().objects.filter(is_staff=False, is_active=True).order_by("pk")[100:160])
    tokens = [str(ShopRefreshToken.for_user(u).access_token) for u in customers]
    jwt = f"Bearer {tokens[0]}"
    in_stock = list(
        Book.objects.filter(is_active=True, stock__gt=2, price__isnull=False).values_list("pk", flat=True)[
            :500
        ]
    )
    detail = f"/api/v1/books/{book.isbn13}/"
    reads = {
        "baseline (1,200 bytes)": lambda i: call("GET", "/bench/baseline/1200/"),
        "list, cached": lambda i: call("GET", "/api/v1/books/", "page=2"),
        "list, cached, signed in": lambda i: call("GET", "/api/v1/books/", "page=2", AUTHORIZATION=jwt),
        "detail, cached": lambda i: call("GET", detail),
        "detail, cached, signed in": lambda i: call("GET", detail, AUTHORIZATION=jwt),
    }
    for name, run in reads.items():
        print(f"{name:28s} {cpu(run, args.requests):8.0f} µs CPU/request", flush=True)

    def add(i: int) -> None:
        status, _ = call(
            "POST", "/api/v1/cart/items/", body={"book": in_stock[i % len(in_stock)], "quantity": 1}
        )
        if not status.startswith("201"):
            raise SystemExit(f"add to cart answered {status}")

    def checkout(i: int) -> None:
        auth = f"Bearer {tokens[i % len(tokens)]}"
        body = {"book": in_stock[(i * 7) % len(in_stock)], "quantity": 1}
        if not call("POST", "/api/v1/cart/items/", body=body, AUTHORIZATION=auth)[0].startswith("201"):
            call("DELETE", "/api/v1/cart/", AUTHORIZATION=auth)
            return
        order = {"shipping_address": ADDRESS, "payment_provider": "dummy"}
        call("POST", "/api/v1/orders/", body=order, AUTHORIZATION=auth, IDEMPOTENCY_KEY=str(uuid.uuid4()))

    print(f"{'add to cart, anonymous':28s} {cpu(add, args.carts):8.0f} µs CPU/request", flush=True)
    print(
        f"{'checkout (line + order)':28s} {cpu(checkout, max(args.carts // 5, 5)):8.0f} µs CPU/order",
        flush=True,
    )


if __name__ == "__main__":
    main()
