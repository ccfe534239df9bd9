"""Settings for the bookstore, read from the environment.

Every value has an embedded default that lets a new machine run the shop with nothing
installed: SQLite, a local-memory cache, Celery tasks run eagerly, email printed to the
console, files on the local disk, dummy payments. Each integration switches on when its
variable is set (see README.md for the full table). ``DJANGO_ENV=production`` refuses to start
without the secrets a real deployment needs and turns on the HTTPS hardening.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from bookstore.csp import content_security_policy

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"))

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}.")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    _missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL") if not env(name, default="")]
    if _missing:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs these environment variables, which are not set: "
            + ", ".join(_missing)
            + ". See README.md, 'Configuration'."
        )

# --- Core ---------------------------------------------------------------------------------

# The development key is public by design: production refuses to start without its own.
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-only-key-never-use-in-production")
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # Third party
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "storages",
    # The shop's bounded contexts, in dependency order.
    "apps.accounts",
    "apps.categories",
    "apps.catalog",
    "apps.cart",
    "apps.orders",
    "apps.reviews",
    # The dead-letter record of the background tasks (no app depends on it).
    "apps.jobs",
    # The customer pages that compose the apps above (no models).
    "apps.storefront",
]

MIDDLEWARE = [
    "bookstore.middleware.RequestLogMiddleware",
    "bookstore.health.HealthCheckMiddleware",
    "bookstore.middleware.NulByteMiddleware",
    "bookstore.replicas.ReplicaRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # French for this French shop, English when the browser asks for it (or the switch says so).
    "django.middleware.locale.LocaleMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "bookstore.links.RequestOriginMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "bookstore.middleware.DomainErrorMiddleware",
    "bookstore.middleware.DatabaseUnavailableMiddleware",
    # Last: a current catalogue entry answered before URL resolving and DRF, inside every
    # other middleware (bookstore/api/cached_reads.py).
    "bookstore.api.cached_reads.CachedReadMiddleware",
]

ROOT_URLCONF = "bookstore.urls"
WSGI_APPLICATION = "bookstore.wsgi.application"

STATICFILES_DIRS = [BASE_DIR / "static"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.storefront.context.storefront",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# Django's backend, whose health check asks the server nothing unless the connection shows
# trouble (bookstore/postgresql/base.py): a round trip less on every request.
POSTGRES_ENGINE = "bookstore.postgresql"
# A database that stops answering must not hold a web worker: connecting gives up after
# DB_CONNECT_TIMEOUT seconds and a statement after DB_STATEMENT_TIMEOUT (PostgreSQL), and
# the request is answered 503 (bookstore.api.exceptions, bookstore.middleware).
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=3)
DB_STATEMENT_TIMEOUT = env.int("DB_STATEMENT_TIMEOUT", default=20)
# The few statements run through bookstore.db.prepared_cursor (a first cart line, a new
# session's row) are prepared by PostgreSQL once a connection has run them this many times
# (psycopg's prepare_threshold); empty: never (behind PgBouncer before 1.21).
DB_PREPARE_THRESHOLD = env.str("DB_PREPARE_THRESHOLD", default="5")
if USING_POSTGRES:
    DATABASES["default"]["ENGINE"] = POSTGRES_ENGINE
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        connect_timeout=DB_CONNECT_TIMEOUT,
        options=f"-c statement_timeout={DB_STATEMENT_TIMEOUT * 1000}",
        prepare_threshold=int(DB_PREPARE_THRESHOLD) if DB_PREPARE_THRESHOLD else None,
    )

# Read replicas (bookstore/replicas.py): the catalogue's anonymous reads go to one of them, the
# rest to the primary. A replica down, or more than DATABASE_REPLICA_MAX_LAG seconds behind, is
# skipped (checked every DATABASE_REPLICA_CHECK_SECONDS); a client that wrote, and everyone after
# a catalogue write, read the primary for DATABASE_REPLICA_PIN_SECONDS (keep it above the two).
DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
DATABASE_REPLICA_MAX_LAG = env.float("DATABASE_REPLICA_MAX_LAG", default=5.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=2.0)
DATABASE_REPLICA_PIN_SECONDS = env.float("DATABASE_REPLICA_PIN_SECONDS", default=10.0)
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = env.db_url_config(_url)
    # Tests run against the primary's test database (the replica's copy of it is not made).
    _replica.update(CONN_MAX_AGE=DATABASES["default"]["CONN_MAX_AGE"], CONN_HEALTH_CHECKS=True)
    _replica["TEST"] = {"MIRROR": "default"}
    if _replica["ENGINE"] == "django.db.backends.postgresql":
        _replica["ENGINE"] = POSTGRES_ENGINE
        # A replica that does not answer is given up sooner: the primary is there.
        _replica.setdefault("OPTIONS", {}).update(
            connect_timeout=1, options=f"-c statement_timeout={DB_STATEMENT_TIMEOUT * 1000}"
        )
    DATABASES[f"replica{_number}"] = _replica
DATABASE_ROUTERS = ["bookstore.replicas.ReplicaRouter"] if DATABASE_REPLICA_URLS else []

# --- Cache and sessions -------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bookstore",
            "TIMEOUT": env.int("CACHE_TIMEOUT", default=300),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                # A lost Redis is a slower shop, not a broken one: a read misses, a write is
                # dropped (and logged), so the catalogue is read from the database, sessions
                # from their table, and throttles let requests through until Redis is back.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "bookstore.cache"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "bookstore",
            "TIMEOUT": env.int("CACHE_TIMEOUT", default=300),
        }
    }
# Sessions live in the cache and are written through to the database, so a cache flush
# signs nobody out (bookstore/sessions.py: Django's cached_db, one query less per new session).
SESSION_ENGINE = "bookstore.sessions"

# --- Authentication -----------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "storefront:home"
# Sign-in lockout per email address (apps/accounts/lockout.py): this many refused sign-ins
# within this many seconds lock the address out until the window ends, whatever the client.
LOGIN_LOCKOUT_FAILURES = env.int("LOGIN_LOCKOUT_FAILURES", default=10)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# Lifetimes of the emailed links (seconds): email verification, password reset.
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT", default=60 * 60 * 24 * 3)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24)

# --- Reviews ---------------------------------------------------------------------------------
# Held for a staff member's approval before anyone else sees them (production's default), or
# published at once (development's).
REVIEWS_REQUIRE_APPROVAL = env.bool("REVIEWS_REQUIRE_APPROVAL", default=PRODUCTION)

# --- Internationalisation -----------------------------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
# Messages are written in English (Django's convention: the msgids) and translated to French in
# locale/fr/LC_MESSAGES/django.po; `make messages` (a step of `make run` and `make test`) compiles
# the .mo files, which are not committed.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media files ---------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # Credentials come from the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables
    # (or an instance role), read by boto3 itself.
    _default_storage: dict[str, Any] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "region_name": env.str("AWS_S3_REGION_NAME", default="eu-west-3"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
            "default_acl": None,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

# Outside production, whitenoise serves the source static files, no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION

STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        # The manifest needs collectstatic (the Docker image runs it); development serves
        # the source files as they are.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# --- Email --------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Librairie <no-reply@librairie.example>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

ANYMAIL = {}
_sendgrid_key = env.str("ANYMAIL_SENDGRID_API_KEY", default="")
_ses_region = env.str("ANYMAIL_AMAZON_SES_REGION", default="")
if _sendgrid_key:
    _email_backend = "anymail.backends.sendgrid.EmailBackend"
    ANYMAIL["SENDGRID_API_KEY"] = _sendgrid_key
    if env.str("ANYMAIL_SENDGRID_API_URL", default=""):
        ANYMAIL["SENDGRID_API_URL"] = env.str("ANYMAIL_SENDGRID_API_URL")
elif _ses_region:
    _email_backend = "anymail.backends.amazon_ses.EmailBackend"
    ANYMAIL["AMAZON_SES_CLIENT_PARAMS"] = {"region_name": _ses_region}
    if env.str("ANYMAIL_AMAZON_SES_ENDPOINT_URL", default=""):
        ANYMAIL["AMAZON_SES_CLIENT_PARAMS"]["endpoint_url"] = env.str("ANYMAIL_AMAZON_SES_ENDPOINT_URL")
elif PRODUCTION:
    _email_backend = "django.core.mail.backends.smtp.EmailBackend"
else:
    # The console, readable: links can be copied from the log (bookstore/console_mail.py).
    _email_backend = "bookstore.console_mail.EmailBackend"
# An explicit EMAIL_BACKEND wins over the choice above. Django 6.1 configures email through
# MAILERS; the environment keeps the familiar variable names.
_email_options = {}
EMAIL_BACKEND_PATH = env.str("EMAIL_BACKEND", default=_email_backend)
if EMAIL_BACKEND_PATH == "django.core.mail.backends.filebased.EmailBackend":
    _email_options["file_path"] = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent_emails"))
elif EMAIL_BACKEND_PATH == "django.core.mail.backends.smtp.EmailBackend":
    _email_options.update(
        host=env.str("EMAIL_HOST", default="localhost"),
        port=env.int("EMAIL_PORT", default=587),
        username=env.str("EMAIL_HOST_USER", default=""),
        password=env.str("EMAIL_HOST_PASSWORD", default=""),
        use_tls=env.bool("EMAIL_USE_TLS", default=True),
        timeout=10,
    )
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": _email_options}}

# --- Celery -------------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
# Without a broker there is no worker: run tasks in the calling process.
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory://")
)
CELERY_TASK_EAGER_PROPAGATES = True
# One queue per kind of work, so that a burst of one kind (a mailing, an import's thousands of
# cover downloads) never waits in front of another (a payment webhook): README.md, "Celery", says
# which worker consumes which. A worker started without -Q consumes them all. TASK_QUEUE_PREFIX
# names another set of queues on the same broker (the tests give each worker queues of its own).
TASK_QUEUE_PREFIX = env.str("TASK_QUEUE_PREFIX", default="")
TASK_QUEUES = {
    kind: TASK_QUEUE_PREFIX + kind for kind in ("default", "payments", "emails", "covers", "imports")
}
CELERY_TASK_DEFAULT_QUEUE = TASK_QUEUES["default"]
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in TASK_QUEUES.values()]
CELERY_TASK_ROUTES = {
    # Webhook events, provider calls, the relay and reconciliation of payments.
    "apps.orders.tasks.payment*": {"queue": TASK_QUEUES["payments"]},
    "apps.orders.tasks.outbox_email*": {"queue": TASK_QUEUES["emails"]},
    "apps.accounts.tasks.*": {"queue": TASK_QUEUES["emails"]},
    "apps.reviews.tasks.*": {"queue": TASK_QUEUES["emails"]},
    # A staff member's upload: its thumbnails.
    "catalog.book_cover_thumbnails_make": {"queue": TASK_QUEUES["covers"]},
    # What an import leaves behind: one download per cover given by URL, up to the whole file.
    "catalog.book_cover_fetch": {"queue": TASK_QUEUES["imports"]},
}
CELERY_TASK_IGNORE_RESULT = True
# Acknowledged once done, one message at a time per process: a worker that dies mid-task leaves
# the message to another (every task is safe to run twice). Payment tasks say so themselves too.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
CELERY_BEAT_SCHEDULE["orders-expire-unpaid"] = {
    "task": "apps.orders.tasks.orders_expire_unpaid",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["orders-outbox-relay"] = {
    "task": "apps.orders.tasks.outbox_emails_relay",
    "schedule": 120.0,
}

# --- REST API -----------------------------------------------------------------------------

# Proxies in front of the web processes (a load balancer: 1) whose X-Forwarded-For is trusted.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, reading the catalogue without loading a customer (bookstore/api/authentication.py).
        "bookstore.api.authentication.ShopJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "bookstore.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    # The client's address is REMOTE_ADDR unless the shop sits behind this many proxies that
    # each append to X-Forwarded-For: a header a client sends itself is never trusted, or it
    # could claim a new address per request and never be throttled.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="300/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        # The strict scope of the authentication endpoints (login, register, reset).
        "auth": env.str("THROTTLE_AUTH", default="10/min"),
    },
    # DRF's parsers, with a JSON one that refuses lone surrogates (bookstore/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "bookstore.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["bookstore.api.renderers.OrjsonRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_SCHEMA_CLASS": "bookstore.api.schema.AutoSchema",
    "DEFAULT_METADATA_CLASS": "bookstore.api.metadata.Metadata",
    "EXCEPTION_HANDLER": "bookstore.api.exceptions.problem_exception_handler",
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Tokens carry a hash of the password: changing or resetting it ends every session.
    "CHECK_REVOKE_TOKEN": True,
    "SIGNING_KEY": SECRET_KEY,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "API Librairie E-commerce",
    "DESCRIPTION": "REST API of the bookstore: catalogue, accounts, cart, orders and reviews. "
    "Errors are RFC 9457 problem details (application/problem+json).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Swagger UI is served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; name each choice set once.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "apps.orders.models.OrderStatus",
        "PaymentStatusEnum": "apps.orders.models.PaymentStatus",
        "RefundStatusEnum": "apps.orders.models.RefundStatus",
        "OrderTransitionStatusEnum": "apps.orders.serializers.TRANSITION_STATUSES",
        "AddressKindEnum": "apps.accounts.models.Address.Kind",
    },
}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["X-Request-ID", "X-Cart-Token", "Retry-After", "Idempotent-Replayed"]
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "idempotency-key",
    "x-cart-token",
    "x-csrftoken",
    "x-request-id",
)

# Problem "type" URIs are this prefix plus the error code.
PROBLEM_TYPE_BASE = env.str("PROBLEM_TYPE_BASE", default="urn:librairie:problem:")

# --- Shop ---------------------------------------------------------------------------------

SHOP_CURRENCY = env.str("SHOP_CURRENCY", default="EUR")
# Catalogue: cover uploads (bytes; thumbnail widths in pixels) and cached anonymous reads.
CATALOG_COVER_MAX_BYTES = env.int("CATALOG_COVER_MAX_BYTES", default=5 * 1024 * 1024)
# Pixels a cover may have (read from its header before decoding: a small file can decode huge).
CATALOG_COVER_MAX_PIXELS = env.int("CATALOG_COVER_MAX_PIXELS", default=25_000_000)
# A multipart request larger than this is refused while it arrives (bookstore/uploads.py): the
# largest cover, and room for the form around it.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=CATALOG_COVER_MAX_BYTES + 256 * 1024)
FILE_UPLOAD_HANDLERS = [
    "bookstore.uploads.UploadSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
CATALOG_COVER_THUMBNAIL_WIDTHS = env.list("CATALOG_COVER_THUMBNAIL_WIDTHS", cast=int, default=[120, 300, 600])
CATALOG_CACHE_TIMEOUT = env.int("CATALOG_CACHE_TIMEOUT", default=300)
# Each process's copy of the keys the cached reads' hits depend on, kept current by Redis's
# invalidations (bookstore/near_cache.py): at most this many keys (list pages' entries are about
# 15 KB); 0 reads every hit from Redis. After a Redis error the copy is not used for this long.
NEAR_CACHE_KEYS = env.int("NEAR_CACHE_KEYS", default=2048)
NEAR_CACHE_RETRY_SECONDS = env.float("NEAR_CACHE_RETRY_SECONDS", default=1.0)
FRONTEND_URL = env.str("FRONTEND_URL", default="http://127.0.0.1:8000")
# Development with FRONTEND_URL unset: links follow the server answering (bookstore/links.py).
FRONTEND_URL_FROM_REQUEST = env.bool(
    "FRONTEND_URL_FROM_REQUEST", default=DEBUG and "FRONTEND_URL" not in os.environ
)

# Orders: book prices include VAT; the rate (percent) is the one for books in France.
SHOP_VAT_RATE = Decimal(env.str("SHOP_VAT_RATE", default="5.5"))
# "book_law": the French law on book prices forbids free delivery of books, so shipping costs
# SHIPPING_BOOK_LAW_UNDER below SHIPPING_BOOK_LAW_THRESHOLD of books and SHIPPING_BOOK_LAW_FROM
# from it; "flat": SHIPPING_FLAT_RATE whatever the amount.
SHIPPING_POLICY = env.str("SHIPPING_POLICY", default="book_law")
if SHIPPING_POLICY not in {"book_law", "flat"}:
    raise ImproperlyConfigured(f"SHIPPING_POLICY must be 'book_law' or 'flat', not {SHIPPING_POLICY!r}.")
SHIPPING_BOOK_LAW_THRESHOLD = Decimal(env.str("SHIPPING_BOOK_LAW_THRESHOLD", default="35.00"))
SHIPPING_BOOK_LAW_UNDER = Decimal(env.str("SHIPPING_BOOK_LAW_UNDER", default="3.00"))
SHIPPING_BOOK_LAW_FROM = Decimal(env.str("SHIPPING_BOOK_LAW_FROM", default="0.01"))
SHIPPING_FLAT_RATE = Decimal(env.str("SHIPPING_FLAT_RATE", default="4.90"))
# Unpaid orders older than this are cancelled (and their stock returned) by a beat task.
ORDER_PAYMENT_TIMEOUT = timedelta(minutes=env.int("ORDER_PAYMENT_TIMEOUT", default=30))
# Payment providers. Stripe is offered when its secret key is set, PayPal when its client id and
# secret are; the API bases change only for tests and stand-ins (PayPal: sandbox outside
# production, live in production).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
PAYPAL_CLIENT_ID = env.str("PAYPAL_CLIENT_ID", default="")
PAYPAL_CLIENT_SECRET = env.str("PAYPAL_CLIENT_SECRET", default="")
PAYPAL_WEBHOOK_ID = env.str("PAYPAL_WEBHOOK_ID", default="")
PAYPAL_API_BASE = env.str(
    "PAYPAL_API_BASE",
    default="https://api-m.paypal.com" if PRODUCTION else "https://api-m.sandbox.paypal.com",
)
# Seconds a call to a provider may take before it counts as failed (and is retried, same key).
PAYMENT_PROVIDER_TIMEOUT = env.float("PAYMENT_PROVIDER_TIMEOUT", default=10.0)
# Where a redirect provider (PayPal) sends the customer back; "?order=<number>" is added. The
# defaults are the storefront's pages; the React or mobile app may point them at its own.
PAYMENT_RETURN_URL = env.str("PAYMENT_RETURN_URL", default="")
PAYMENT_CANCEL_URL = env.str("PAYMENT_CANCEL_URL", default="")
# Payments still pending this long after their last change are asked about at the provider
# (beat, "payments-reconcile"), for as long as PAYMENT_RECONCILE_WINDOW after checkout.
PAYMENT_RECONCILE_AFTER = timedelta(minutes=env.int("PAYMENT_RECONCILE_AFTER", default=5))
PAYMENT_RECONCILE_WINDOW = timedelta(hours=env.int("PAYMENT_RECONCILE_WINDOW", default=72))
_configured_providers = [
    name
    for name, configured in (
        ("stripe", bool(STRIPE_SECRET_KEY)),
        ("paypal", bool(PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET)),
    )
    if configured
]
# The providers a checkout may choose: by default the configured ones, and the dummy one (a page
# that pays or fails the order) outside production; apps.orders refuses to start with it in
# production, or with a listed provider that misses a setting.
PAYMENT_PROVIDERS = env.list(
    "PAYMENT_PROVIDERS", default=_configured_providers + ([] if PRODUCTION else ["dummy"])
)
CELERY_BEAT_SCHEDULE["payments-reconcile"] = {
    "task": "apps.orders.tasks.payments_reconcile_due",
    "schedule": 120.0,
}
CELERY_BEAT_SCHEDULE["payments-events-relay"] = {
    "task": "apps.orders.tasks.payment_events_relay",
    "schedule": 120.0,
}

# Cart: how a sign-in combines the visitor's anonymous cart with the customer's: "merge" (the
# same book's quantities add up), "keep_customer" or "keep_newest" (one cart wins whole).
CART_MERGE_POLICY = env.str("CART_MERGE_POLICY", default="merge")
if CART_MERGE_POLICY not in {"merge", "keep_customer", "keep_newest"}:
    raise ImproperlyConfigured(
        f"CART_MERGE_POLICY must be 'merge', 'keep_customer' or 'keep_newest', not {CART_MERGE_POLICY!r}."
    )
# Anonymous carts untouched for 30 days are deleted.
CELERY_BEAT_SCHEDULE["cart-purge-anonymous"] = {
    "task": "apps.cart.tasks.cart_purge_anonymous",
    "schedule": timedelta(hours=6),
}

# --- Content-Security-Policy ----------------------------------------------------------------
# One policy for the pages, the admin, Swagger UI and the API (bookstore/csp.py): the shop's
# own origin, Stripe only when Stripe is configured, PayPal's approval page only when PayPal
# is offered, and the cover storage's origin for images.

_media_origins = [MEDIA_URL]
if AWS_STORAGE_BUCKET_NAME:
    _s3 = _default_storage["OPTIONS"]
    _media_origins += [
        f"https://{_s3['custom_domain']}" if _s3["custom_domain"] else "",
        _s3["endpoint_url"] or "",
        f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com",
        f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{_s3['region_name']}.amazonaws.com",
    ]
SECURE_CSP = content_security_policy(
    stripe_api_base=STRIPE_API_BASE if STRIPE_PUBLISHABLE_KEY else None,
    paypal_api_base=PAYPAL_API_BASE if "paypal" in PAYMENT_PROVIDERS else None,
    media_urls=_media_origins,
)

# --- Logging ------------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "bookstore.logging.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "bookstore.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The request log below replaces the development server's own access lines.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# --- Production hardening -----------------------------------------------------------------

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
