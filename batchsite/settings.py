"""
Storybatch settings. Everything that differs between machines comes from the
environment; see the README's configuration table. With nothing set, the
defaults make a development site on SQLite that just works. With DEBUG=false
the site refuses to start without SECRET_KEY and ALLOWED_HOSTS.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from batches.conf import settings_from_environment
from batchsite.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("STORYBATCH_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY: it is required when DEBUG=false.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS: it is required when DEBUG=false.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_tasks_db",
    "batches",
]

MIDDLEWARE = [
    # CORS first, so that a preflight is answered before anything can
    # redirect it or ask it to authenticate.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "batchsite.urls"
WSGI_APPLICATION = "batchsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


# Lets several test runs share one machine without sharing a test database.
TEST_DB_SUFFIX = env_str("STORYBATCH_TEST_DB_SUFFIX")


def _database_from_url(url):
    config = dj_database_url.parse(url, conn_max_age=env_int("CONN_MAX_AGE", 0))
    config["TEST"] = {"NAME": f"test_{config['NAME']}{TEST_DB_SUFFIX}"}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # Several workers share one SQLite file: the write-ahead log lets
            # readers run beside the writer, and the timeout makes a writer
            # wait for the lock instead of failing. Transactions that read
            # and then write take the lock up front (batches.db).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 30,
        }
        # Tests start real worker processes, which cannot see an in-memory
        # database, so the test database is a file too.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-db{TEST_DB_SUFFIX}.sqlite3")}
    return config


VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": _database_from_url(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# After the browsable API's log-in page, back to the API.
LOGIN_REDIRECT_URL = "/api/batches/"

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))

# Background work: Django's Tasks framework on the database backend. Any
# number of `manage.py db_worker` processes, on any number of machines, take
# tasks from the same database.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# -- API ---------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Answers the service layer's StateConflict with 409.
    "EXCEPTION_HANDLER": "batches.api.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Only requests that change something count against the rate.
    "DEFAULT_THROTTLE_CLASSES": ["batches.api.throttles.MutationRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "mutations": env_str("STORYBATCH_MUTATION_RATE", "120/minute"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Storybatch API",
    "DESCRIPTION": "Batches of profiles turned into generated stories.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and answer components, so that a batch's upload form
    # (with its file) and the batch it answers are described apart.
    "COMPONENT_SPLIT_REQUEST": True,
}

# -- Cross-origin clients ----------------------------------------------------

CORS_ALLOWED_ORIGINS = env_list(
    "CORS_ALLOWED_ORIGINS", ["http://localhost:3000"] if DEBUG else []
)
# "/api" itself too, so that even its preflight is answered, not redirected.
CORS_URLS_REGEX = r"^/api(/.*)?$"
# The client may send session cookies along with a CSRF token, so the
# browser must be told that credentials are allowed, and Django's CSRF check
# must trust the same origins.
CORS_ALLOW_CREDENTIALS = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", CORS_ALLOWED_ORIGINS)
# Headers a page on another origin may read: the export's file name, and
# how long to wait after a 429.
CORS_EXPOSE_HEADERS = ["Content-Disposition", "Retry-After"]

# -- Production hardening ----------------------------------------------------

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# -- Storybatch --------------------------------------------------------------
# Read through batches.conf, which holds the defaults; every key there can be
# set from the environment as STORYBATCH_<KEY>, e.g. STORYBATCH_LEASE_SECONDS.

STORYBATCH = settings_from_environment()
# Django refuses request bodies larger than this before any view runs.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "batches": {
            "handlers": ["console"],
            "level": env_str("STORYBATCH_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
}
