"""Settings shared by every environment.

Everything comes from the environment, with defaults that make the embedded
mode (SQLite file, Celery tasks run in-process) work with no variable set.
Nothing here connects to a service or touches the disk.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "warrant-embedded-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Where the embedded mode keeps its SQLite file and export files.
DATA_DIR = Path(os.environ.get("WARRANT_DATA_DIR", BASE_DIR / "var"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "annotator",
]

MIDDLEWARE = [
    # First, so that its figure covers every other middleware too.
    "annotator.web.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (static files included).
    "annotator.web.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Database unreachable: 503 with Retry-After instead of a 500 (before sessions and users).
    "annotator.web.outage.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A bodiless 405 gets a page that says what the address takes (annotator.web.errors).
    "annotator.web.errors.MethodNotAllowedMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

#: PostgreSQL's connect timeout (below): well under gunicorn's 60 s worker timeout and
#: a load balancer's usual health-check timeout, well over a healthy connect (ms).
DATABASE_CONNECT_TIMEOUT_SECONDS = 5
#: PostgreSQL's statement timeout (below), in seconds; 0 turns it off. Under gunicorn's
#: 60 s worker timeout, so a query that hangs on an open connection (a lock held by a
#: stuck transaction, a server that stopped working) ends as the 503 page, not as a
#: killed worker (a 502); far over any query of a page or of a job's batch.
DATABASE_STATEMENT_TIMEOUT_SECONDS = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "30"))
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'warrant.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, in-process tasks, CLI) share one file: wait for
    # the lock instead of failing at once, and let readers run beside a writer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # The documents' order index carries titles as non-key columns for PostgreSQL's
    # index-only scans; SQLite builds it on its key columns alone, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis")):
    # Django's backend, whose health check (CONN_HEALTH_CHECKS, above) sends no SELECT 1
    # when the connection's socket shows it alive: one round trip fewer on every request
    # (annotator/backends/postgresql).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "annotator.backends.postgresql"
    # A server that accepts the connection and never answers (hung, or a network path
    # that drops packets) fails the request after this long, which the outage
    # middleware answers with 503 and /healthz reports as "database": "down", instead
    # of hanging until gunicorn kills the worker (60 s, a 502). libpq counts it per
    # address tried. DATABASE_URL's own ?connect_timeout=N wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", DATABASE_CONNECT_TIMEOUT_SECONDS
    )
    # psycopg prepares the statements annotator.prepared sends (its default threshold; None,
    # Django's default, turns that off: DATABASE_PREPARED_STATEMENTS=0, for a pooler that
    # cannot hold them). The ORM's cursors bind values on the client and are never
    # prepared whatever this says.
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
    # Sent with the connection's start-up packet (libpq ``options``): no query of its
    # own. A cancelled statement raises OperationalError, which the outage middleware
    # answers with 503 (annotator/web/outage.py).
    if DATABASE_STATEMENT_TIMEOUT_SECONDS > 0:
        _options = DATABASES["default"]["OPTIONS"]
        _options["options"] = (
            f"{_options.get('options', '')} "
            f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_SECONDS * 1000}"
        ).strip()

# Django's database sessions, read with a prepared statement (annotator.web.sessions).
SESSION_ENGINE = "annotator.web.sessions"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "annotator.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Counts failed log-ins in the database and refuses the account or address for a while.
AUTHENTICATION_BACKENDS = ["annotator.web.security.ThrottledModelBackend"]
# Guessing passwords: after this many failures for one username from one address
# within the window, log-ins for it from there are refused (429) until the window
# has passed ...
WARRANT_LOGIN_FAILURES_MAX = int(os.environ.get("WARRANT_LOGIN_FAILURES_MAX", "5"))
# ... and after this many from one address for any usernames: more, since a class
# may share one NAT address (annotator.web.security).
WARRANT_LOGIN_IP_FAILURES_MAX = int(os.environ.get("WARRANT_LOGIN_IP_FAILURES_MAX", "100"))
WARRANT_LOGIN_WINDOW_SECONDS = int(os.environ.get("WARRANT_LOGIN_WINDOW_SECONDS", "900"))
# Behind a reverse proxy, the request.META key of the header holding the client's
# address (e.g. HTTP_X_FORWARDED_FOR); empty: REMOTE_ADDR.
WARRANT_CLIENT_IP_HEADER = os.environ.get("WARRANT_CLIENT_IP_HEADER", "")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Who may create projects in the browser: "any" logged-in user, or "staff" only.
WARRANT_PROJECT_CREATORS = os.environ.get("WARRANT_PROJECT_CREATORS", "any")

# Uploads: an import page takes a brief or an archive of briefs, not a corpus dump.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
WARRANT_MAX_UPLOAD_BYTES = int(os.environ.get("WARRANT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))
# An upload bigger than this is imported by the worker, with a progress bar,
# instead of in the request (1,000 annotated briefs outlived gunicorn's timeout).
WARRANT_IMPORT_INLINE_BYTES = int(os.environ.get("WARRANT_IMPORT_INLINE_BYTES", 2 * 1024 * 1024))
# The external recommenders projects may use (URL prefixes, comma-separated): the web
# process posts briefs there, so the site's operator chooses; none when unset.
WARRANT_SUGGEST_EXTERNAL_URLS = env_list("WARRANT_SUGGEST_EXTERNAL_URLS", [])
# A body over that limit is refused unread (annotator.web.uploads), not streamed to disk first.
FILE_UPLOAD_HANDLERS = [
    "annotator.web.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
CSRF_FAILURE_VIEW = "annotator.web.uploads.csrf_failure"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser with nesting bounded: a body nested too deep is a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": [
        "annotator.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Warrant API",
    "DESCRIPTION": "Argument-structure annotation: projects, documents, spans, relations, "
    "agreement and exports. Offsets count Unicode code points.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served by Warrant itself: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; name each choice set after what it is.
    "ENUM_NAME_OVERRIDES": {
        "AnnotationStatusEnum": "annotator.models.documents.AnnotationStatus",
        "JobStatusEnum": "annotator.models.jobs.JobStatus",
        "RoleEnum": "annotator.models.projects.Role",
        "ExportScopeEnum": "annotator.models.jobs.ExportScope",
    },
}

# Celery: Redis when a URL is given; otherwise the embedded mode runs tasks
# in-process, which is the documented default for one machine with no services.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or ""
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A job whose worker dies is redelivered after this long (Redis visibility timeout).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
    # Redis gone or hung: a request that queues a job gives up in seconds and the job
    # row says so (services/*._enqueue), instead of waiting on a dead socket for ever.
    "socket_connect_timeout": 2,
    "socket_timeout": 2,
}
# Publishing: one quick retry (a pooled connection broken by a Redis restart is
# replaced), then fail. With Redis stopped the request loses milliseconds
# (tests/faults/test_redis_outage.py); with Redis hung (the port accepts, nothing
# answers), about 3 x socket_timeout: 6 s.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# The worker keeps reconnecting (every 30 s at most) however long Redis is away,
# instead of exiting after 100 attempts (about 50 minutes).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# Agreement runs read documents in chunks of at most this many, each chunk on
# whichever worker is free, and keep each chunk's sums for later runs while its
# submitted sets do not change (services/agreement.py).
WARRANT_AGREEMENT_CHUNK_DOCUMENTS = int(
    os.environ.get("WARRANT_AGREEMENT_CHUNK_DOCUMENTS", "1000")
)
# Automatic runs (after submissions) start this many seconds after the first
# submission that asked: submissions meanwhile join the same run.
WARRANT_AGREEMENT_COALESCE_SECONDS = float(
    os.environ.get("WARRANT_AGREEMENT_COALESCE_SECONDS", "30")
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # In the embedded mode tasks run in-process on kombu's memory transport,
        # which warns about its missing host name and logs every task it runs.
        "kombu.connection": {"level": "ERROR"},
        "celery.app.trace": {"level": "WARNING"},
    },
}
