"""Settings of the benchmark's gunicorn: the shop's, without the anonymous/user rate limits.

All the benchmark's requests come from one address; the per-client throttles would measure
(and refuse) that single client rather than the catalogue. The scoped ``auth`` throttle stays.
"""

from bookstore.settings import *  # noqa: F403
from bookstore.settings import REST_FRAMEWORK

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
}
