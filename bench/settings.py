"""Settings of the benchmarks' gunicorn: the shop's, without the anonymous/user rate limits,
plus what bench/run measures with (``bench.instrument``: the baseline view, the query count).

All the benchmark's requests come from one address; the per-client throttles would measure
(and refuse) that single client rather than the catalogue. The scoped ``auth`` throttle stays.
"""

import os

from bookstore.settings import *  # noqa: F403
from bookstore.settings import MIDDLEWARE, REST_FRAMEWORK

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
}
ROOT_URLCONF = "bench.instrument"
MIDDLEWARE = ["bench.instrument.QueryCountMiddleware", *MIDDLEWARE]

# A key prefix of the run's own (bench/perf.py sets one): another process on the same Redis
# database (another benchmark) cannot retire or fill this run's entries.
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": os.environ.get("BENCH_CACHE_PREFIX", "bookstore")}}  # noqa: F405
