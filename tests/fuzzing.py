"""Schemathesis against a live shop, the pieces tests/core/test_api_fuzz_live.py and bench/fuzz.py share.

- ``CHECKS``: what every answer must pass (also tests/core/test_api_fuzz.py's, in-process);
- ``live_schema``: the schema a running server serves, every operation but the webhooks;
- ``log_in``: a user's JWT, from ``POST /api/v1/auth/token/``;
- ``fuzz_operation``: generated requests of one operation, each sent as every user;
- ``run_scenarios``: schemathesis's stateful testing over the links it infers, as one user;
- ``seed_shop``: the known data a run starts from (Django models: call it where Django is set up).

Nothing here imports Django at load time: bench/fuzz.py's own process never sets it up.
"""

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import given
from hypothesis import seed as hypothesis_seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
USERS = ("anonymous", "customer", "staff")
# Not fuzzed: a webhook is authenticated by its provider's signature over the exact body, which
# no generated request carries, so every one would stop at the same 400 before reaching the code
# behind it. Its answers are tested with signed bodies in tests/orders/test_webhooks.py.
NOT_FUZZED = r"^/api/v1/payments/webhooks/"
REQUEST_TIMEOUT = 30
PASSWORD = "Lecture-du-soir-2026"  # of the users seed_shop makes
# The server's rate limits while it is fuzzed: every request comes from one address, and a run
# logs in more than ten times a minute; the per-client limits would answer 429 (documented, so
# passing) instead of reaching the views. They still run, at a rate the fuzzer never reaches.
UNTHROTTLED = {"THROTTLE_ANON": "1000000/min", "THROTTLE_USER": "1000000/min", "THROTTLE_AUTH": "1000000/min"}
STATEFUL = "stateful scenario"  # the operation of a failure no single call of a scenario holds


def problem_details(ctx, response, case) -> None:
    """An error answer is ``application/problem+json`` with the problem fields and its status."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/problem+json"), (
        f"{case.method} {case.formatted_path} answered {response.status_code} as {content_type!r}"
    )
    body = json.loads(response.content)
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == response.status_code, body


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    problem_details,
]


def live_schema(base_url: str, *, all_operations: bool = False):
    """The schema the server at ``base_url`` serves, fetched over HTTP, without the webhooks
    (unless ``all_operations``)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/schema/", timeout=REQUEST_TIMEOUT)
    # The curl of a failure shows the request as sent: schemathesis would otherwise mask any
    # value whose name looks secret, the ``author`` filter included (and the test tokens).
    schema.config.output.sanitization.update(enabled=False)
    return schema if all_operations else schema.exclude(path_regex=NOT_FUZZED)


def operations(schema) -> list:
    """The schema's operations, in its order (one it cannot read is an error, not a skip)."""
    return [result.ok() for result in schema.get_all_operations()]


def log_in(base_url: str, email: str, password: str) -> dict[str, str]:
    """The headers of a user: a bearer token the server gives for their email and password."""
    response = requests.post(
        f"{base_url}/api/v1/auth/token/",
        json={"email": email, "password": password},
        timeout=REQUEST_TIMEOUT,
    )
    if response.status_code != 200:
        raise RuntimeError(f"{email} could not log in at {base_url}: {response.status_code} {response.text}")
    return {"Authorization": f"Bearer {response.json()['access']}"}


class TimeUp(Exception):
    """Raised in a test when the time given to it is spent: no new request starts."""


@dataclass(frozen=True)
class Failure:
    operation: str
    user: str
    kind: str  # what failed, to tell failures apart: the checks' titles and the status
    message: str  # schemathesis's report, with its curl of the request
    curl: str = ""


@dataclass
class Run:
    """What a run did: requests sent per (operation, user), stateful steps (and scenarios per
    user), failures."""

    calls: Counter = field(default_factory=Counter)
    steps: Counter = field(default_factory=Counter)
    scenarios: Counter = field(default_factory=Counter)  # per user
    restarts: Counter = field(default_factory=Counter)  # per user: see run_scenarios
    failures: list[Failure] = field(default_factory=list)
    # How many times each (operation, user, kind) failed; the shortest request is kept.
    seen: Counter = field(default_factory=Counter)

    def record(self, failure: Failure) -> None:
        key = (failure.operation, failure.user, failure.kind)
        self.seen[key] += 1
        for index, known in enumerate(self.failures):
            if (known.operation, known.user, known.kind) == key:
                if len(failure.curl) < len(known.curl):
                    self.failures[index] = failure
                return
        self.failures.append(failure)

    def groups(self) -> dict[tuple[str, str], list[Failure]]:
        """The failures by operation and kind (the same failure, seen as several users)."""
        groups: dict[tuple[str, str], list[Failure]] = {}
        for failure in self.failures:
            groups.setdefault((failure.operation, failure.kind), []).append(failure)
        return groups

    def report(self) -> str:
        """Each kind of failure once per operation: the users it was seen as, how many requests
        failed so, and schemathesis's report of the shortest one, with its curl."""
        blocks = []
        for (operation, kind), failures in self.groups().items():
            seen = sum(self.seen[(operation, failure.user, kind)] for failure in failures)
            shortest = min(failures, key=lambda failure: len(failure.curl) or len(failure.message))
            users = ", ".join(failure.user for failure in failures)
            head = f"as {users}" + (f", {seen} failing requests" if seen > len(failures) else "")
            if len(failures) > 1:
                head += f"; the shortest, as {shortest.user}"
            message = shortest.message.rstrip().removesuffix("(1 sub-exception)").rstrip()
            blocks.append(f"### {operation}: {kind}\n{head}:\n\n{message}")
        return "\n\n".join(blocks)


def _kind(exc: BaseException, response=None) -> str:
    if isinstance(exc, FailureGroup):
        titles = []
        for failure in exc.exceptions:
            where = getattr(failure, "schema_path", None)
            titles.append(failure.title + (f" at {'/'.join(map(str, where))}" if where else ""))
        status = f" ({response.status_code})" if response is not None else ""
        return "; ".join(sorted(set(titles))) + status
    return type(exc).__name__


def _failure(operation: str, who: str, exc: BaseException, curl: str, response=None) -> Failure:
    if isinstance(exc, FailureGroup):
        message = str(exc)  # its curl included
    else:
        message = f"{type(exc).__name__}: {exc}\n\nReproduce with:\n\n    {curl}"
    return Failure(operation, who, _kind(exc, response), message, curl)


def _leaves(exc: BaseException) -> list[BaseException]:
    """The failures in what Hypothesis raised: it groups distinct ones (and flaky ones)."""
    if isinstance(exc, BaseExceptionGroup) and not isinstance(exc, FailureGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def requests_of(operation):
    """Valid and invalid requests of an operation, as schemathesis's fuzzing phase draws them."""
    return st.one_of([operation.as_strategy(generation_mode=mode) for mode in GenerationMode])


def fuzz_operation(
    operation,
    callers: dict[str, dict[str, str]],
    settings: hypothesis_settings,
    run: Run,
    *,
    keep_going: bool = False,
    deadline: float | None = None,
    seed: int | None = None,
) -> bool:
    """Send the generated requests of ``operation`` as each of ``callers`` (name → headers).

    By default a failure stops the operation: Hypothesis shrinks it to its smallest request,
    which is recorded. With ``keep_going`` every failing request is recorded and generation goes
    on (no shrinking: ``settings`` should leave that phase out). No request starts after
    ``deadline`` (a ``time.monotonic()`` value). False if the deadline cut the operation short.
    """

    @settings
    @given(case=requests_of(operation))
    def answers_as_its_schema_says(case) -> None:
        for who, headers in callers.items():
            if deadline is not None and time.monotonic() > deadline:
                raise TimeUp
            run.calls[(operation.label, who)] += 1
            response = None
            try:
                response = case.call(headers=headers, timeout=REQUEST_TIMEOUT)
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (FailureGroup, requests.RequestException) as exc:
                failure = _failure(operation.label, who, exc, case.as_curl_command(headers=headers), response)
                if not keep_going:
                    exc.fuzz_failure = failure  # for the report, once Hypothesis has shrunk it
                    raise
                run.record(failure)

    if seed is not None:
        answers_as_its_schema_says = hypothesis_seed(seed)(answers_as_its_schema_says)
    try:
        answers_as_its_schema_says()
    except TimeUp:
        return False
    except (Exception, BaseExceptionGroup) as exc:  # FailureGroup is a BaseExceptionGroup
        for leaf in _leaves(exc):
            if isinstance(leaf, TimeUp):
                continue
            failure = getattr(leaf, "fuzz_failure", None)
            run.record(failure or _failure(operation.label, "?", leaf, ""))
    return True


def _scenarios(
    schema, who: str, headers: dict[str, str], run: Run, *, keep_going: bool, deadline: float | None
):
    """Schemathesis's state machine over the links it infers from ``schema``, calling as ``who``."""

    class Scenarios(schema.as_state_machine()):
        def setup(self) -> None:
            run.scenarios[who] += 1

        def before_call(self, case) -> None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeUp

        def get_call_kwargs(self, case) -> dict[str, Any]:
            return {"headers": headers, "timeout": REQUEST_TIMEOUT}

        def call(self, case, **kwargs):
            run.steps[(case.operation.label, who)] += 1
            try:
                return super().call(case, **kwargs)
            except requests.RequestException as exc:
                exc.fuzz_failure = _failure(
                    case.operation.label, who, exc, case.as_curl_command(headers=headers)
                )
                raise  # the scenario ends here

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            try:
                case.validate_response(
                    response, checks=CHECKS, headers=headers, transport_kwargs=kwargs, recorder=self.recorder
                )
            except FailureGroup as exc:
                failure = _failure(
                    case.operation.label, who, exc, case.as_curl_command(headers=headers), response
                )
                if not keep_going:
                    exc.fuzz_failure = failure
                    raise
                run.record(failure)

    return Scenarios


def _inconsistent(exc: BaseException) -> bool:
    """Whether Hypothesis gave up on a run because the server answered differently from an
    earlier scenario with the same start (its state moved on): not a failure of the shop, and
    the run starts again, as schemathesis's own runner does."""
    if isinstance(exc, Flaky):
        return True
    # Hypothesis asserts, rather than raising Flaky, when a replay draws past a rejected value.
    traceback = exc.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    return (
        isinstance(exc, AssertionError)
        and traceback is not None
        and traceback.tb_frame.f_globals["__name__"].startswith("hypothesis.internal.conjecture")
    )


def run_scenarios(
    schema,
    who: str,
    headers,
    settings: hypothesis_settings,
    run: Run,
    *,
    keep_going: bool = False,
    deadline: float | None = None,
    seed: int = 0,
    attempts: int = 5,
) -> None:
    """Run ``settings.max_examples`` scenarios of schemathesis's stateful testing as ``who``.

    ``headers`` is the user's headers, or a function returning them (called before each run of
    the state machine). A failure ends the scenarios: Hypothesis shrinks it to its shortest
    sequence of calls, which is recorded. With ``keep_going`` every failing call is recorded
    and the scenario goes on (no shrinking: ``settings`` should leave that phase out). A run
    that Hypothesis ends because the server's answers moved on starts again, with the next
    seed, up to ``attempts`` times. No call starts after ``deadline``.
    """
    wanted = run.scenarios[who] + settings.max_examples
    for attempt in range(attempts):
        left = wanted - run.scenarios[who]
        if left <= 0 or (deadline is not None and time.monotonic() > deadline):
            return
        current = headers() if callable(headers) else headers
        machine = _scenarios(schema, who, current, run, keep_going=keep_going, deadline=deadline)
        try:
            hypothesis_seed(seed + attempt)(machine).run(
                settings=hypothesis_settings(settings, max_examples=left)
            )
        except TimeUp:
            return
        except (Exception, BaseExceptionGroup) as exc:
            leaves = [leaf for leaf in _leaves(exc) if not isinstance(leaf, TimeUp)]
            if all(_inconsistent(leaf) for leaf in leaves):
                run.restarts[who] += 1
                continue
            for leaf in leaves:
                if not _inconsistent(leaf):
                    run.record(getattr(leaf, "fuzz_failure", None) or _failure(STATEFUL, who, leaf, ""))
            if not keep_going:
                return


# --- The data a run starts from ---------------------------------------------------------------


def seed_shop(password: str = PASSWORD) -> dict[str, str]:
    """A small catalogue; a customer with an address, a delivered order (and their published
    review of its book), a pending order and a line in their cart; a member of staff. Written
    through the services and tests/factories.py, in the database Django is set up with (and
    committed there unless a test's transaction holds it). Returns the users' emails."""
    from apps.reviews.models import ReviewStatus
    from tests.factories import (
        AddressFactory,
        CartFactory,
        CartLineFactory,
        UserFactory,
        catalogue_make,
        category_tree_make,
        order_delivered_make,
        order_make,
        review_make,
    )

    books = catalogue_make(category_tree_make())
    dune, cronica, salmon = books["dune"], books["cronica"], books["salmon"]

    customer = UserFactory(password=password)
    staff = UserFactory(password=password, is_staff=True)
    AddressFactory(user=customer)
    order_delivered_make(user=customer, books=[cronica])
    review_make(book=cronica, user=customer, rating=5, title="Court", status=ReviewStatus.PUBLISHED)
    order_make(user=customer, books=[dune])
    CartLineFactory(cart=CartFactory._meta.model.objects.get(user=customer), book=salmon)
    return {"customer": customer.email, "staff": staff.email}
