"""Settings shared by every environment, read from environment variables (see docs/configuration.md)."""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_choice,
    env_database,
    env_file,
    env_int,
    env_list,
    env_str,
    without_credentials,
)
from config.routers import READ_ALIAS

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

# Off unless set: a deployment that forgets the variable never serves debug pages (``make run``
# sets DEBUG=true for the quick start; ADR 0022).
DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = env_str("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY: must be set when DEBUG is off (DEBUG is off unless set; for the quick start "
            "use make run, which sets DEBUG=true)"
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: ``runserver`` (make run) leaves /static/ to WhiteNoise too, so the quick
    # start and production serve static files the same way (ADR 0026).
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "staff_auth",
    "orders_write",
    "orders_read",
    "projections",
    "api",
    "bus",
    "observability",
    "webhooks",
]

MIDDLEWARE = [
    "observability.middleware.RequestObservabilityMiddleware",  # first: request id, metrics, log line (ADR 0024)
    "django.middleware.security.SecurityMiddleware",
    # Static files (ADR 0026): answered here, before sessions and the URL conf; a page's
    # Content-Security-Policy (django-csp, below) is untouched, a static file needs none.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Staff logins (ADR 0030): idle sessions end, then a session owing a second factor is held.
    "staff_auth.middleware.IdleSessionMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "staff_auth.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL in production and tests; SQLite under var/ for the zero-setup quick start.
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)

# Optionally, the read side (read tables, checkpoints, shared cache) on a database of its own.
if env_str("READ_DATABASE_URL") is not None:
    DATABASES[READ_ALIAS] = env_database("READ_DATABASE_URL", "")
    DATABASE_ROUTERS = ["config.routers.ReadSideRouter"]

# Django's persistent connections on PostgreSQL (one per thread, checked before reuse; not a
# pool, so nothing is shared across threads or django-q2's forked workers, which close them
# before forking): a connection per request costs a PostgreSQL backend start each, a large share
# of a command's time under load (figures in docs/benchmarks.md). 0 restores a connection per request.
DATABASE_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
for _database in DATABASES.values():
    if _database["ENGINE"] != "django.db.backends.sqlite3":
        _database.update(CONN_MAX_AGE=DATABASE_CONN_MAX_AGE, CONN_HEALTH_CHECKS=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # 12 characters at least (ASVS 2.1.1, ADR 0030): admin password changes and createsuperuser.
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files (ADR 0026): WhiteNoise serves them from the web process. Here (make run, the tests)
# from the apps' static/ folders as they are, found when asked for (no scan of every file each
# time the middleware starts, as each test client does), and no collectstatic needed: a page
# renders without a manifest. The production settings serve what ``collectstatic`` put in
# STATIC_ROOT, compressed, under content-hashed names, from a list made once at start.
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The shop's one currency: every amount is an integer number of its minor units (cents).
SHOP_CURRENCY = env_choice("SHOP_CURRENCY", "EUR", pattern=r"[A-Z]{3}", meaning="an ISO 4217 code such as EUR")

# Idempotency records answer retries of one placement; after this many days they are purged
# (hourly on the worker, or manage.py purge_idempotency_records) and the key may be reused.
IDEMPOTENCY_RETENTION_DAYS = env_int("IDEMPOTENCY_RETENTION_DAYS", 7, minimum=1)

# Called after each committed command so projections can catch up at once (dotted path).
OUTBOX_NUDGE = env_str("OUTBOX_NUDGE", "projections.tasks.nudge")
# Every reader of the outbox the consumer runtime drains (projections and relays), by class path.
# Adding a read table is one module and one line here (docs/decisions/0016-one-consumer-runtime.md).
CONSUMERS = [
    "projections.order_views.OrderViews",
    "projections.sales.Sales",
    "projections.reports.Reports",  # rollups by day, month and year (ADR 0021)
    "webhooks.fanout.WebhookFanOut",
]

# The event bus (bus/, ADR 0019): when NATS_URL is set, a relay publishes every event to the
# JetStream stream NATS_STREAM on <NATS_SUBJECT_PREFIX>.<aggregate_type>.<EventType>.
# ``manage.py nats_setup`` creates the stream with the retention limits below (0 = unlimited).
NATS_URL = env_str("NATS_URL")
if NATS_URL is not None:
    if not all(url.strip().startswith(("nats://", "tls://", "ws://", "wss://")) for url in NATS_URL.split(",")):
        raise ImproperlyConfigured(
            f"NATS_URL: expected nats:// URLs separated by commas, got {without_credentials(NATS_URL)!r}"
        )
    CONSUMERS.append("bus.relay.NatsRelay")
_NATS_TOKEN = r"[A-Za-z0-9_-]+"
NATS_STREAM = env_choice(
    "NATS_STREAM", "ORDERS", pattern=_NATS_TOKEN, meaning="a stream name (letters, digits, _ or -)"
)
NATS_SUBJECT_PREFIX = env_choice(
    "NATS_SUBJECT_PREFIX",
    "orders.events",
    pattern=rf"{_NATS_TOKEN}(\.{_NATS_TOKEN})*",
    meaning="subject tokens separated by dots, such as orders.events",
)
# Customers' contact data (emails) goes on the bus only when the operator says every subscriber
# may read it: off by default, its fields are null in the messages (ADR 0031).
NATS_INCLUDE_CONTACTS = env_bool("NATS_INCLUDE_CONTACTS", False)
NATS_MAX_AGE_SECONDS = env_int("NATS_MAX_AGE_SECONDS", 0, minimum=0)
NATS_MAX_BYTES = env_int("NATS_MAX_BYTES", 0, minimum=0)
NATS_MAX_MSGS = env_int("NATS_MAX_MSGS", 0, minimum=0)
NATS_MAX_MSG_SIZE = env_int("NATS_MAX_MSG_SIZE", 0, minimum=0)
# JetStream drops a message whose Nats-Msg-Id it saw within this window: it must outlast the
# relay's retry horizon (the relay refuses a stream whose window is shorter; bus.stream).
NATS_DUPLICATE_WINDOW_SECONDS = env_int("NATS_DUPLICATE_WINDOW_SECONDS", 900, minimum=1)
NATS_ACK_TIMEOUT_SECONDS = env_int("NATS_ACK_TIMEOUT_SECONDS", 5, minimum=1)
# Credentials and TLS (ADR 0029): a .creds file (JWT and NKey) or an NKey seed file keeps the
# secret out of NATS_URL; TLS is required with a tls:// URL or any NATS_TLS_* setting, and a
# server that does not offer it is refused before the client sends anything.
NATS_CREDS = env_file("NATS_CREDS")
NATS_NKEY_SEED_FILE = env_file("NATS_NKEY_SEED_FILE")
if NATS_CREDS is not None and NATS_NKEY_SEED_FILE is not None:
    raise ImproperlyConfigured("NATS_CREDS, NATS_NKEY_SEED_FILE: set one or the other (a .creds file holds its NKey)")
NATS_TLS_CA = env_file("NATS_TLS_CA")
NATS_TLS_CERT = env_file("NATS_TLS_CERT")
NATS_TLS_KEY = env_file("NATS_TLS_KEY")
if (NATS_TLS_CERT is None) != (NATS_TLS_KEY is None):
    raise ImproperlyConfigured("NATS_TLS_CERT, NATS_TLS_KEY: a client certificate needs both")
NATS_TLS_HANDSHAKE_FIRST = env_bool("NATS_TLS_HANDSHAKE_FIRST", False)
_NATS_TLS_WANTED = NATS_TLS_CA or NATS_TLS_CERT or NATS_TLS_HANDSHAKE_FIRST or "tls://" in (NATS_URL or "")
if _NATS_TLS_WANTED and any(url.strip().startswith("ws://") for url in (NATS_URL or "").split(",")):
    raise ImproperlyConfigured("NATS_URL: TLS is required (a tls:// URL or NATS_TLS_*): use wss://, not ws://")

# Webhooks (ADR 0020): http targets and private/loopback/link-local addresses only when allowed.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
# A POST's wall-clock deadline (connect, send, the whole answer) and how many deliveries to one
# endpoint may be in flight at once across every deliverer, so a slow receiver takes at most that
# many threads (ADR 0027).
WEBHOOK_DEADLINE_SECONDS = float(env_int("WEBHOOK_DEADLINE_MS", 10_000, minimum=100)) / 1000
WEBHOOK_ENDPOINT_CONCURRENCY = env_int("WEBHOOK_ENDPOINT_CONCURRENCY", 2, minimum=1)
# Ports a webhook URL may name: unset, 80, 443 and 1024-65535 but well-known internal service
# ports (webhooks.targets); set, exactly these ports and ranges, e.g. "443" or "443,8443,9000-9100".
_WEBHOOK_PORTS = env_choice(
    "WEBHOOK_ALLOWED_PORTS",
    "",
    pattern=r"\d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*",
    meaning="ports and ranges separated by commas, such as 443,8443,9000-9100",
)
WEBHOOK_ALLOWED_PORTS = tuple(
    (int(low), int(high or low)) for low, _, high in (part.partition("-") for part in _WEBHOOK_PORTS.split(",") if part)
) or None  # fmt: skip
if WEBHOOK_ALLOWED_PORTS and not all(1 <= low <= high <= 65535 for low, high in WEBHOOK_ALLOWED_PORTS):
    raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_PORTS: ports are 1 to 65535, low-high; got {_WEBHOOK_PORTS!r}")
WEBHOOK_RETRY_BASE_SECONDS = float(env_int("WEBHOOK_RETRY_BASE_MS", 5000, minimum=1)) / 1000
WEBHOOK_RETRY_FOR_SECONDS = env_int("WEBHOOK_RETRY_FOR_SECONDS", 3 * 24 * 3600, minimum=1)
WEBHOOK_DELIVERY_THREADS = env_int("WEBHOOK_DELIVERY_THREADS", 8, minimum=1)
# Signing secrets are stored encrypted under a key derived from this (SECRET_KEY when unset);
# rows written under a fallback still decrypt (webhooks.secrets_at_rest).
WEBHOOK_SECRET_KEY = env_str("WEBHOOK_SECRET_KEY")
WEBHOOK_SECRET_KEY_FALLBACKS = env_list("WEBHOOK_SECRET_KEY_FALLBACKS", [])

# A cache every process shares (web, qcluster workers): the drain's debounce mark and
# django-q2's monitor live here. The database by default, Redis when REDIS_URL is set.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "shared_cache"}}

# Seconds a drain batch may sit idle mid-transaction (a frozen or cut-off worker) before
# PostgreSQL ends it and frees the projection for other drainers.
PROJECTION_BATCH_IDLE_TIMEOUT = env_int("PROJECTION_BATCH_IDLE_TIMEOUT", 30, minimum=1)

# django-q2: the ORM broker by default, Redis when REDIS_URL is set (scale-out).
# Its pitfalls are avoided on purpose: `retry` exceeds `timeout` plus queue wait, so a slow task
# is never handed to a second worker while the first still runs it.
Q_TIMEOUT = env_int("Q_TIMEOUT", 60, minimum=1)
Q_CLUSTER = {
    "name": "orders",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT * 2 + 30,
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 1000,
    "orm": "default",
    # A nudged drain should start within a second of the command.
    "poll": 0.2,
    "sync": env_bool("Q_SYNC", False),
}
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL is not None:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL: expected a redis:// URL, got {without_credentials(REDIS_URL)!r}")
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = REDIS_URL
    CACHES = {"default": {"BACKEND": "config.redis_cache.RedisCache", "LOCATION": REDIS_URL}}

# The REST API (api/): token or session auth, one error shape, throttled commands, OpenAPI 3.
# ``off`` when something in front (a gateway) limits rates: DRF then skips the throttle without
# touching the cache, where any rate, however high, costs a cache read and write per command
# (on the database cache a transaction on one row per user; docs/benchmarks.md).
COMMAND_THROTTLE_RATE = env_choice(
    "COMMAND_THROTTLE_RATE",
    "600/min",
    pattern=r"off|[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)",
    meaning="a rate such as 600/min (per second, minute, hour or day) or off",
)
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate challenge turns "not logged in" into a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_RATES": {"commands": None if COMMAND_THROTTLE_RATE == "off" else COMMAND_THROTTLE_RATE},
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Orders API",
    "DESCRIPTION": (
        "Commands change orders, customers and products through the domain services; queries read the "
        "denormalised read tables. Money is an integer in minor units beside a currency code."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PATH_CONVERTER_OVERRIDES": {"int": {"type": "integer", "minimum": 0}},  # <int:> matches digits only
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "events.OrderStatus"},
    # Docstrings are written for the code's readers: none becomes a description in the document.
    # Each operation's text is its own (``extend_schema(description=...)``, ADR 0033).
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
}
# Read-your-writes: how long a query with ``min_position`` waits for the projections behind it.
READ_YOUR_WRITES_TIMEOUT = 2.0
# Bounded reads (ADR 0023): queries per user (``off`` when a gateway limits rates), counted in the
# ``throttle`` cache: Redis when set, else each process's memory (no database write per read);
# and how many read-your-writes waits one user may hold at once in one web process.
QUERY_THROTTLE_RATE = env_choice(
    "QUERY_THROTTLE_RATE",
    "100/s",
    pattern=r"off|[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)",
    meaning="a rate such as 100/s (per second, minute, hour or day) or off",
)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["queries"] = None if QUERY_THROTTLE_RATE == "off" else QUERY_THROTTLE_RATE
CACHES["throttle"] = (
    {"BACKEND": "config.redis_cache.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL is not None
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "query-throttle"}
)
READ_YOUR_WRITES_MAX_WAITS_PER_USER = env_int("READ_YOUR_WRITES_MAX_WAITS_PER_USER", 2, minimum=1)
# ... and all users together in one web process (ADR 0028: never every thread of a worker).
READ_YOUR_WRITES_MAX_WAITS_PER_PROCESS = env_int("READ_YOUR_WRITES_MAX_WAITS_PER_PROCESS", 4, minimum=1)
# Long-polls of the event feed (ADR 0028): how many one user may hold at once in one web process,
# and how many all users together (under gunicorn never all of a worker's threads: api.waits).
FEED_MAX_WAITS_PER_USER = env_int("FEED_MAX_WAITS_PER_USER", 2, minimum=1)
FEED_MAX_WAITS_PER_PROCESS = env_int("FEED_MAX_WAITS_PER_PROCESS", 4, minimum=0)
# /health/ready: the worker counts as alive while a checkpoint heartbeat is this fresh (the minute
# sweep refreshes them), and the read side as current while lag stays under the threshold.
HEALTH_HEARTBEAT_MAX_AGE = env_int("HEALTH_HEARTBEAT_MAX_AGE", 150, minimum=1)
HEALTH_MAX_LAG_SECONDS = env_int("HEALTH_MAX_LAG_SECONDS", 60, minimum=1)
# /health/ready runs its checks at most this often per process (ADR 0023); 0 runs them every time.
HEALTH_CACHE_SECONDS = env_int("HEALTH_CACHE_SECONDS", 3, minimum=0)

# Observability (ADR 0024): one JSON object per log line with LOG_FORMAT=json (the production
# default), metrics at /metrics behind ``Authorization: Bearer $METRICS_TOKEN`` when it is set.
LOG_FORMAT = env_choice("LOG_FORMAT", "text", pattern=r"json|text", meaning="json or text")
METRICS_TOKEN = env_str("METRICS_TOKEN")
# Lines below WARNING are written together at most this often (ADR 0025); 0 writes each at once.
LOG_FLUSH_MS = env_int("LOG_FLUSH_MS", 500, minimum=0)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "observability.logging.JsonFormatter"},
        "text": {"()": "observability.logging.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "observability.line_handler.BatchingStreamHandler",
            "formatter": LOG_FORMAT,
            "flush_ms": LOG_FLUSH_MS,
        }
    },
    "root": {
        "handlers": ["console"],
        "level": env_choice(
            "LOG_LEVEL", "INFO", pattern=r"DEBUG|INFO|WARNING|ERROR", meaning="DEBUG, INFO, WARNING or ERROR"
        ),
    },
}

# Pages outside the admin (the dashboard) send anonymous visitors here. Not the admin's login:
# it admits staff only, and report viewers are not staff.
LOGIN_URL = "dashboard:login"

# API tokens (ADR 0022): django-rest-knox's digests in ``api.ApiToken`` (api/models.py). Knox's own
# table is never created (no migrations for it): the swapped-in model replaces it.
KNOX_TOKEN_MODEL = "api.ApiToken"
MIGRATION_MODULES = {"knox": None}
# Days a token lives unless ``create_api_token --expires-days`` says otherwise.
API_TOKEN_EXPIRY_DAYS = env_int("API_TOKEN_EXPIRY_DAYS", 90, minimum=1)
# The longest life a token may be given (admin and create_api_token): a leaked token ends by then.
API_TOKEN_MAX_EXPIRY_DAYS = env_int("API_TOKEN_MAX_EXPIRY_DAYS", 365, minimum=1)
if API_TOKEN_EXPIRY_DAYS > API_TOKEN_MAX_EXPIRY_DAYS:
    raise ImproperlyConfigured("API_TOKEN_EXPIRY_DAYS: must not exceed API_TOKEN_MAX_EXPIRY_DAYS")

# Login lockout (django-axes) on every password login (/admin/login/, /dashboard/login/): after
# LOGIN_FAILURE_LIMIT failures for one username from one IP address, that pair is locked out for
# LOGIN_COOLOFF_MINUTES; staff unlock earlier by deleting the attempt in the admin (Axes: Access
# attempts). The client IP is REMOTE_ADDR: set a proxy's header in AXES_IPWARE_* only behind one.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True

# Staff two-factor (django-otp TOTP, ADR 0030): with ``required`` (the production default) superusers
# and holders of a manage right or of the admin's user, group and device rights
# (staff_auth.policy) enrol a device before reaching any admin or dashboard page; in
# either mode whoever has a device enters its code after the password. API tokens are never asked.
STAFF_2FA = env_choice("STAFF_2FA", "optional", pattern=r"required|optional", meaning="required or optional")
OTP_TOTP_ISSUER = "Orders"  # the name authenticator apps show beside the code
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # staff reset a device in the admin, never read its secret
# A logged-in session idle this long is logged out (0: never; 30 with the production settings).
# A session also ends SESSION_MAX_HOURS after its login however busy it is (staff_auth.sessions).
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 0, minimum=0)
# Hours a login lasts however busy (Django's SESSION_COOKIE_AGE, pinned at login); 12 in production.
SESSION_COOKIE_AGE = env_int("SESSION_MAX_HOURS", 14 * 24, minimum=1) * 3600

# Content-Security-Policy (django-csp) on every page but the admin's (Django's admin templates
# carry inline scripts): the dashboard and the API docs load scripts, styles and images from this
# site only, and no inline script runs.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
