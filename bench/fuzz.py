"""API fuzzing, the long run: schemathesis against a live shop, every operation, as three users.

    .venv/bin/python bench/fuzz.py [--examples 200] [--seconds 120] [--scenarios 100] [--seed N]
    .venv/bin/python bench/fuzz.py --base-url http://127.0.0.1:8000 [--customer EMAIL:PASSWORD ...]

The bounded form runs in CI: tests/core/test_api_fuzz_live.py; both use tests/fuzzing.py (the
checks, the generation, the state machine, the data). Here, on the schema the server serves at
``/api/schema/``:

- every operation but the webhooks gets up to ``--examples`` generated requests (valid and
  invalid), each sent as an anonymous visitor, a customer and a member of staff (JWT from
  ``POST /api/v1/auth/token/``);
- then schemathesis's stateful testing runs up to ``--scenarios`` scenarios per user, chaining
  operations over the links it infers from the schema.

Every answer must pass the checks of tests/core/test_api_fuzz.py (no 5xx, documented status
and content type, body matching its schema, errors as problem details). A failure does not stop
the run: each kind of failure is kept once per operation and user, with the shortest curl that
reproduces it. Prints the requests sent per operation and user, the totals and the failures;
exits 1 if there was any.

Without ``--base-url`` it serves the shop itself, with gunicorn as in the container
(``-c python:bookstore.gunicorn_conf``), on its own PostgreSQL database (``--database-url``, or
``BENCH_DATABASE_URL``, default postgres://postgres@127.0.0.1:5432/bookstore_bench_fuzz,
created if missing, FLUSHED and seeded with tests.fuzzing.seed_shop's data at each run) and Redis
database 15 (``BENCH_REDIS_URL`` to use another; flushed). The per-client rate limits are raised,
as in bench/cart.py: every request comes from one address.

With ``--base-url`` it fuzzes a server already running on 127.0.0.1: if a database URL is given
(``--database-url`` or ``BENCH_DATABASE_URL``), the one that server serves, it is flushed and
seeded as above; otherwise ``--customer`` and ``--staff`` name existing accounts (a user not
named is not fuzzed). Its rate limits and its cache are its own (not flushed): a 429 is
documented, so it passes, but a throttled request tests little.

Bounded: ``--examples`` per operation, ``--scenarios`` per user, and ``--seconds`` for the whole
run (70 % for the operations, shared out so that each gets its turn, 30 % for the scenarios);
no request starts after it. ``--seed`` draws the same requests again. Targets 127.0.0.1 only;
a database's name must contain ``bench``.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from harness import (
    LOOPBACK,
    REDIS_URL,
    ROOT,
    bench_env,
    gunicorn,
    prepare_database,
    run_child,
    setup_django,
)

sys.path.insert(0, str(ROOT))
from hypothesis import HealthCheck, Phase, settings

from tests.fuzzing import (
    PASSWORD,
    UNTHROTTLED,
    Run,
    fuzz_operation,
    live_schema,
    log_in,
    operations,
    run_scenarios,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookstore_bench_fuzz"
STATELESS_SHARE = 0.7
SCENARIOS_PER_RUN = 20
ATTEMPTS = 5
# Tokens live 15 minutes: a user logs in again after this many seconds.
TOKEN_AGE = 600


def seed() -> None:
    """Runs inside the bench environment (a child process): Django is set up here."""
    setup_django()
    from django.core.management import call_command

    from tests.fuzzing import seed_shop

    call_command("flush", interactive=False, verbosity=0)
    print(json.dumps(seed_shop()))


class Users:
    """The users' request headers, logged in again when their token gets old."""

    def __init__(self, base_url: str, accounts: dict[str, tuple[str, str]]) -> None:
        self.base_url = base_url
        self.accounts = accounts
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}}
        self.issued: dict[str, str] = {}  # every Authorization header given out → its user
        self.logged_in: float | None = None

    @property
    def names(self) -> list[str]:
        return ["anonymous", *self.accounts]

    def current(self) -> dict[str, dict[str, str]]:
        if self.logged_in is None or time.monotonic() - self.logged_in > TOKEN_AGE:
            for who, (email, password) in self.accounts.items():
                try:
                    self.headers[who] = log_in(self.base_url, email, password)
                except RuntimeError as exc:
                    if self.logged_in is None:
                        raise
                    print(f"  {exc}: going on with the token of the last login", flush=True)
                self.issued[self.headers[who]["Authorization"]] = who
            self.logged_in = time.monotonic()
        return self.headers

    def login_commands(self) -> list[str]:
        return [
            f"{who.upper()}_TOKEN=$(curl -s -X POST '{self.base_url}/api/v1/auth/token/' "
            f"-H 'Content-Type: application/json' "
            f"-d '{json.dumps({'email': email, 'password': password})}' | "
            "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access\"])')"
            for who, (email, password) in self.accounts.items()
        ]


def account(value: str) -> tuple[str, str]:
    email, sep, password = value.partition(":")
    if not sep or not email or not password:
        raise argparse.ArgumentTypeError("expected EMAIL:PASSWORD")
    return email, password


def loopback_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or parts.hostname not in LOOPBACK:
        raise argparse.ArgumentTypeError(f"the fuzzer writes: it targets 127.0.0.1 only, not {value!r}")
    return value.rstrip("/")


def fuzz(base_url: str, users: Users, args: argparse.Namespace, run: Run) -> None:
    schema = live_schema(base_url)
    fuzzed = operations(schema)
    started = time.monotonic()
    stop = started + args.seconds
    stateless_stop = started + args.seconds * STATELESS_SHARE
    print(
        f"{len(fuzzed)} operations, users: {', '.join(users.names)}; up to {args.examples} examples per "
        f"operation, {args.scenarios} scenarios per user, {args.seconds:.0f} s; seed {args.seed} "
        f"(--seed {args.seed} draws the same requests again)",
        flush=True,
    )
    stateless = settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking: a failure is recorded as it was sent, and generation goes on.
        phases=[Phase.explicit, Phase.generate],
    )
    # Each operation gets an equal share of the time left, so that every one has its turn; the
    # time the quick ones leave goes, in further passes, to those the limit cut short.
    pending = fuzzed
    attempt = 0
    while pending and time.monotonic() < stateless_stop:
        cut = []
        for index, operation in enumerate(pending):
            share = (stateless_stop - time.monotonic()) / (len(pending) - index)
            sent = run.calls[(operation.label, "anonymous")]
            finished = fuzz_operation(
                operation,
                users.current(),
                settings(stateless, max_examples=max(args.examples - sent, 1)),
                run,
                keep_going=True,
                deadline=time.monotonic() + max(share, 0.0),
                seed=args.seed + attempt,
            )
            if not finished:
                cut.append(operation)
        pending = cut
        attempt += 1
    stateful = settings(stateless, stateful_step_count=args.steps)
    names = users.names
    for index, who in enumerate(names):
        deadline = time.monotonic() + max((stop - time.monotonic()) / (len(names) - index), 0.0)
        chunk = 0
        # In runs of a few scenarios: the token is fresh at the start of each.
        while run.scenarios[who] < args.scenarios and time.monotonic() < deadline:
            before = run.scenarios[who]
            run_scenarios(
                schema,
                who,
                lambda who=who: users.current()[who],
                settings(stateful, max_examples=min(args.scenarios - before, SCENARIOS_PER_RUN)),
                run,
                keep_going=True,
                deadline=deadline,
                seed=args.seed + ATTEMPTS * chunk,
                attempts=ATTEMPTS,
            )
            chunk += 1
            if run.scenarios[who] == before:
                break


def print_table(run: Run, names: list[str]) -> None:
    labels = sorted({label for label, _ in run.calls} | {label for label, _ in run.steps})
    width = max([len(label) for label in labels] + [9])
    head = " ".join(f"{who:>9}" for who in names)
    print("\nrequests per operation and user: generated | stateful steps\n")
    print(f"{'operation':<{width}} {head} | {head} {'total':>7}")
    for label in labels:
        generated = [run.calls[(label, who)] for who in names]
        steps = [run.steps[(label, who)] for who in names]
        cells = " ".join(f"{n:>9}" for n in generated) + " | " + " ".join(f"{n:>9}" for n in steps)
        print(f"{label:<{width}} {cells} {sum(generated) + sum(steps):>7}")
    generated = [sum(n for (_, who), n in run.calls.items() if who == name) for name in names]
    steps = [sum(n for (_, who), n in run.steps.items() if who == name) for name in names]
    cells = " ".join(f"{n:>9}" for n in generated) + " | " + " ".join(f"{n:>9}" for n in steps)
    print(f"{'total':<{width}} {cells} {sum(generated) + sum(steps):>7}")
    print(
        f"\n{sum(generated)} generated requests, {sum(steps)} stateful steps in "
        + ", ".join(f"{run.scenarios[who]} scenarios as {who}" for who in names)
        + f"; {sum(generated) + sum(steps)} requests in all"
    )
    if run.restarts:
        restarts = ", ".join(f"{n} as {who}" for who, n in run.restarts.items())
        print(f"stateful runs started again (the server's answers had moved on): {restarts}")


def print_failures(run: Run, users: Users) -> None:
    if not run.failures:
        print("\nno failures")
        return
    print(
        f"\n{len(run.groups())} failures (each kind once per operation, as {len(run.failures)} "
        "operation and user pairs; the shortest request of each):\n"
    )
    # The tokens of the run expire: the curls name them, and how to get fresh ones comes first.
    report = run.report()
    for header, who in users.issued.items():
        report = report.replace(f"'Authorization: {header}'", f'"Authorization: Bearer ${who.upper()}_TOKEN"')
    if users.accounts:
        print("Tokens for the curls below:\n\n    " + "\n    ".join(users.login_commands()) + "\n")
    print(report)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=200, help="generated requests per operation")
    parser.add_argument("--scenarios", type=int, default=100, help="stateful scenarios per user")
    parser.add_argument("--steps", type=int, default=10, help="steps per scenario, at most")
    parser.add_argument("--seconds", type=float, default=120.0, help="time limit of the whole run")
    parser.add_argument("--seed", type=int, default=None, help="draw the requests of an earlier run")
    parser.add_argument("--base-url", type=loopback_url, default=None, help="fuzz this running server")
    parser.add_argument("--database-url", default=None, help="default: BENCH_DATABASE_URL, or " + DEFAULT_DB)
    parser.add_argument("--customer", type=account, default=None, metavar="EMAIL:PASSWORD")
    parser.add_argument("--staff", type=account, default=None, metavar="EMAIL:PASSWORD")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed()
        return
    if args.seed is None:
        args.seed = random.randrange(2**32)

    database_url = args.database_url or os.environ.get("BENCH_DATABASE_URL")
    if args.base_url is None:
        database_url = database_url or DEFAULT_DB
    redis_url = REDIS_URL
    env = bench_env(
        database_url or DEFAULT_DB,
        settings="bookstore.settings",
        REDIS_URL=redis_url,
        **UNTHROTTLED,
    )
    accounts = {who: value for who, value in (("customer", args.customer), ("staff", args.staff)) if value}
    if database_url is not None:
        prepare_database(database_url, env)
        emails = json.loads(run_child([__file__, "--seed-only"], env, capture=True).strip().splitlines()[-1])
        accounts = {who: (emails[who], PASSWORD) for who in ("customer", "staff")}
    elif len(accounts) < 2:
        missing = [who for who in ("customer", "staff") if who not in accounts]
        print(f"no database to seed and no account for: {', '.join(missing)} (not fuzzed as them)")

    run = Run()
    started = time.monotonic()
    if args.base_url is not None:
        users = Users(args.base_url, accounts)
        try:
            fuzz(args.base_url, users, args, run)
        finally:
            print_table(run, users.names)
    else:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-fuzz-{os.getpid()}.log"  # noqa: S108
        print(f"gunicorn's log: {log}")
        with gunicorn(env, args.workers, args=("-c", "python:bookstore.gunicorn_conf"), log=log) as port:
            base_url = f"http://127.0.0.1:{port}"
            users = Users(base_url, accounts)
            try:
                fuzz(base_url, users, args, run)
            finally:
                print_table(run, users.names)
    print(f"{time.monotonic() - started:.0f} s")
    print_failures(run, users)
    sys.exit(1 if run.failures else 0)


if __name__ == "__main__":
    main()
