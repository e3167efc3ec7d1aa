"""Settings, all from the environment (django-environ).

Embedded default: nothing set -> SQLite file in the project, Celery eager, DEBUG on.
Production: DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, DEBUG=false.
"""

import datetime
import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.admin.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "simple_history",
    "axes",
    "accounts",
    "branches",
    "pairings",
    "evaluations",
    "campaigns",
    "reports",
    "dashboard",
    "reminders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.PortalLocaleMiddleware",
    "config.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "accounts.middleware.PasswordChangeFirstMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# --- Logins: lockout after repeated failures (django-axes), at every door (portal, admin, API
# token). Staff unlock an account in the admin (访问尝试: delete the entry) or with
# `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, whose request user comes with their organization.
    "accounts.backends.PortalModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
# By account, not by address: a bureau's staff share one address behind its gateway, and
# five typos there must not lock the whole bureau out (hence axes.W006 silenced).
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out"
AXES_VERBOSE = False

ROOT_URLCONF = "config.urls"

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

WSGI_APPLICATION = "config.wsgi.application"


def _milliseconds(name: str, default: str) -> int:
    """A duration from the environment, in milliseconds: `30s`, `500ms`, `2min`; a bare number
    is seconds; 0 is none."""
    text = env.str(name, default=default).strip().lower()
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?) *(ms|s|min)?", text)
    if match is None:
        raise ImproperlyConfigured(f"{name}: a duration such as 30s, 500ms or 2min, not {text!r}.")
    number, unit = match.groups()
    return round(float(number) * {"ms": 1, "s": 1000, "min": 60_000, None: 1000}[unit])


DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# Persistent connections: a worker keeps its connection for a minute instead of opening one per
# request (PostgreSQL forks a backend for each); the health check replaces a connection the
# server has dropped before a request uses it. SQLite opens a file: nothing to keep.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if POSTGRESQL else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Longest a single statement of a web request may run (PostgreSQL's statement_timeout): a
# runaway query is cancelled (the user gets the error page) instead of holding a worker. Only
# the web processes get it: config/wsgi.py sets it on each connection they open (gunicorn and
# runserver load the application from there), so Celery workers (ledger exports, bulletins,
# roster imports) and management commands (migrate, seed_demo) never import it and run
# without a limit. Below gunicorn's --timeout (120 s), so the query is cut before the worker.
DB_STATEMENT_TIMEOUT = _milliseconds("DB_STATEMENT_TIMEOUT", default="30s")
if POSTGRESQL:
    # JIT off for every connection: the portal's queries are short, and JIT compiles any whose
    # estimated cost is high, for more than it saves (the city home page with the member counts
    # of before stored counts: 703 of its 1,082 ms compiling, 9.2 -> 22.1 req/s under load
    # without; on jiguan_city's 20,000 members, 3.4 of 7.0 s).
    # First in the options, so that a `-c jit=on` in DATABASE_URL's ?options= wins.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"-c jit=off {options.get('options', '')}".strip()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and an eager task write side by side.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

# Interface in Simplified Chinese; source strings are English (locale/zh_Hans ships compiled).
LANGUAGE_CODE = "zh-hans"  # whatever the browser says; the footer switches (config.middleware)
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # dates as 2026-03-31 in every language
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Workers' temporary files; what a killed worker leaves here the sweep removes.
WORK_TMP_DIR = env.str("WORK_TMP_DIR", default=str(Path(str(MEDIA_ROOT)) / "tmp"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: strict by default in production (`manage.py check --deploy` passes with DEBUG=false).
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# --- Celery: a Redis broker when REDIS_URL / CELERY_BROKER_URL is set, eager in process otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
# The cache holds the API's throttle counts: shared by every worker through Redis in
# production, in process otherwise.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
# The dashboard's city-wide answers (`dashboard.cache`); building a bulletin clears them.
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=300)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # a killed worker's job goes back to the queue
# A broker that does not answer is said at once, not after minutes of retries.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "accounts.authentication.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api_permissions.CapabilityPermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="30/min"),
        "user": env.str("API_THROTTLE_USER", default="240/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Jiguan Portal API",
    "DESCRIPTION": "Organ party-work committee portal: organizations, members and their work.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: the portal must work on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # drf-spectacular's own hooks first, then ours (config.schema): ids in paths, empty query
    # values, the errors any operation answers.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.positive_path_ids",
        "config.schema.empty_query_values",
        "config.schema.add_error_responses",
    ],
}

# --- django-import-export
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- Domain settings
# Term length in years by organization kind (2018 opinion on grassroots terms); a term may
# carry its own length and an approved extension of at most 12 months.
TERM_YEARS_BY_KIND = {"committee": 5, "general_branch": 3, "branch": 3, "group": 3}
TERM_DUE_SOON_DAYS = env.int("TERM_DUE_SOON_DAYS", default=90)
YOUTH_MAX_AGE = 35
# A secretary may change an activity record for this many days after filing; then only staff.
ACTIVITY_EDIT_WINDOW_DAYS = env.int("ACTIVITY_EDIT_WINDOW_DAYS", default=30)
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)  # then /api/token/ gives a new one
ACTIVITY_ATTACHMENT_MAX_MB = env.int("ACTIVITY_ATTACHMENT_MAX_MB", default=10)  # per file
# Per record, existing and new together (portal, API and admin alike).
ACTIVITY_ATTACHMENTS_MAX_FILES = env.int("ACTIVITY_ATTACHMENTS_MAX_FILES", default=20)
ACTIVITY_ATTACHMENTS_MAX_TOTAL_MB = env.int("ACTIVITY_ATTACHMENTS_MAX_TOTAL_MB", default=100)
# E-mail: notices (an overdue problem) are also e-mailed when EMAIL_HOST is set.
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
NOTICE_EMAIL = bool(EMAIL_HOST)
# The portal's address as users reach it (https://dangjian.example.gov.cn): e-mails and group
# robots (企业微信, 钉钉) link to it; without it their messages carry no link.
PORTAL_URL = env.str("PORTAL_URL", default="")
# A pairing with no visit in this many days is listed as unvisited (pairings progress).
PAIRING_VISIT_DAYS = env.int("PAIRING_VISIT_DAYS", default=90)
# Files received with a form that came back with errors are kept for the user this long
# (then `manage.py clear_pending_uploads`, or the next submission, deletes them).
ACTIVITY_PENDING_UPLOAD_HOURS = env.int("ACTIVITY_PENDING_UPLOAD_HOURS", default=24)
FILE_UPLOAD_PERMISSIONS = 0o640
# Ledgers (台账): above this many rows a download becomes a background job with progress.
LEDGER_ASYNC_THRESHOLD = env.int("LEDGER_ASYNC_THRESHOLD", default=5000)
LEDGER_PROGRESS_EVERY = env.int("LEDGER_PROGRESS_EVERY", default=2000)
LEDGER_EXPORT_KEEP_DAYS = env.int("LEDGER_EXPORT_KEEP_DAYS", default=7)
# A job running or queued longer than this is stuck (killed worker, lost message): the sweep
# (every 10 minutes) fails it and its owner can build it again.
LEDGER_EXPORT_STUCK_MINUTES = env.int("LEDGER_EXPORT_STUCK_MINUTES", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
