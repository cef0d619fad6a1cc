"""Settings for the Integration Console, read from the environment (and `.env`).

Every variable is listed, with its default, in README.md and `.env.example`.
"""

from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime files (the SQLite database, the development key file, the sandbox's state)
# live in var/, which git ignores.
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
# A value already in the environment wins over `.env`.
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-never-used-in-production")
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
    except ImproperlyConfigured:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or in .env "
            "(or set DEBUG=1 for local development only)."
        ) from None

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


# --- Credential encryption -------------------------------------------------
# A comma-separated list of Fernet keys, newest first. New values are encrypted with
# the first; any of them decrypts, which is what makes rotation possible.
def _credential_keys() -> list[str]:
    keys = env.list("CREDENTIAL_KEYS", default=[])
    if keys:
        return keys
    if not DEBUG:
        raise ImproperlyConfigured(
            "CREDENTIAL_KEYS is not set. Generate a key with `python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'` "
            "and set CREDENTIAL_KEYS to it."
        )
    # Development only: one key made on first run, kept in var/ (git-ignored).
    key_file = VAR_DIR / "credential.key"
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode() + "\n")
        key_file.chmod(0o600)
    return [line.strip() for line in key_file.read_text().splitlines() if line.strip()]


CREDENTIAL_KEYS = _credential_keys()


# --- Applications ----------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "django_q",
    "csp",
    # Before the console, whose admin replaces axes' page for failed sign-ins.
    "axes",
    "brands",
    "console",
    "connectors",
    "syncs",
    "exceptions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Under DEBUG (the demo) a missing page is the console's own 404, never Django's
    # technical one. Inside the session, auth and messages, so the page knows who is
    # signed in; inside CommonMiddleware, which still turns "/x" into "/x/" on the way out.
    "console.friendly_404.FriendlyNotFoundMiddleware",
    # Last, as axes asks: it turns a sign-in refused during a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

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
                "console.context_processors.navigation",
            ],
            # On every page without a {% load %}: brand_time, brand_time_text, age and ago show
            # a brand's times in its own zone ("today 12:38"), wherever a page shows one.
            "builtins": [
                "console.templatetags.console_extras",
                "brands.templatetags.brand_time",
            ],
        },
    },
]


# --- Database --------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the cluster writes; IMMEDIATE takes the write
    # lock at BEGIN so two writers queue on the busy timeout instead of failing with
    # "database is locked" half-way through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Django 6 behaviour now: a URL typed without a scheme means https.
FORMS_URLFIELD_ASSUME_HTTPS = True


# --- Auth ------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lockout check first: a locked-out sign-in is refused before any password is checked.
AUTHENTICATION_BACKENDS = [
    "console.login_guard.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"
LOGOUT_REDIRECT_URL = "login"


# --- Locale ----------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True


# --- Static files (served by whitenoise, no CDN) ---------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Compressed, not hashed: a manifest storage answers every page with a server error
        # until collectstatic has run, and one small stylesheet gains little from hashing.
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
# With DEBUG off and no collectstatic yet (a first run), whitenoise still finds the files
# in the app folders instead of answering 404.
WHITENOISE_USE_FINDERS = True


# --- E-mail ----------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Integration Console <console@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL


# --- Security: on by default whenever DEBUG is off ------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# A load balancer's and a monitor's probes may come in plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp): scripts, styles, images and fonts from the console
# itself only, none inline: a script smuggled into a page (a vendor's value, a ticket's
# text) cannot run, nor call anywhere else. The templates keep every script and style in
# static/. No page may be framed (with X_FRAME_OPTIONS, for older browsers).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    # Only when a proxy that strips this header from clients terminates TLS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# --- Sign-in throttling (django-axes; console/login_guard.py) ---------------
# After LOGIN_FAILURE_LIMIT wrong passwords for one username (from any address), or from one
# address (for any username), signing in is refused for LOGIN_LOCKOUT_MINUTES; each try while
# refused starts the wait again. An agency admin can unlock in the admin (Access attempts).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "console.login_guard.client_ip"
AXES_LOCKOUT_CALLABLE = "console.login_guard.lockout_response"
# Failed sign-ins count until they expire (LOGIN_LOCKOUT_MINUTES after the last one), not
# until the next success: a success would otherwise wipe an address's count, and one valid
# account would let its owner guess at everyone else's without limit.
AXES_RESET_ON_SUCCESS = False

# Tracebacks in error reports hide credential values as well as Django's usual list.
DEFAULT_EXCEPTION_REPORTER_FILTER = "console.reporting.SecretSafeExceptionReporterFilter"


# --- Background work: django-q2 --------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "console",
    "workers": env.int("Q_WORKERS", default=2),
    # A run that takes longer than `timeout` is killed; `retry` must stay above it,
    # or the broker hands a still-running task to a second worker.
    "timeout": env.int("Q_TIMEOUT", default=900),
    "retry": env.int("Q_RETRY", default=1200),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 5000,
    "poll": 0.2,
    "label": "Background tasks",
}
# Bulk work (full and incremental reads: backfills, a brand going live, reconciliations) goes
# on a queue of its own, served by its own cluster (`Q_CLUSTER_NAME=bulk manage.py qcluster`),
# so it never holds the workers that events (webhooks, retries, one record) need. Each bulk
# run also yields its worker every BULK_SLICE_SECONDS and queues its remainder at the back, so
# one brand's backfill takes turns with the others'. BULK_QUEUE= (empty) puts everything on
# the one queue, for a console with a single cluster.
BULK_QUEUE = env.str("BULK_QUEUE", default="bulk")
# /metrics answers a monitor that sends this bearer token; off when empty.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
BULK_SLICE_SECONDS = env.float("BULK_SLICE_SECONDS", default=20.0)
Q_CLUSTER["ALT_CLUSTERS"] = {
    BULK_QUEUE or "bulk": {
        "workers": env.int("Q_BULK_WORKERS", default=Q_CLUSTER["workers"]),
        "label": "Bulk tasks",
    }
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"


# --- Logging ---------------------------------------------------------------
# Every handler carries the redaction filter (console/log_redaction.py): a webhook's address
# holds its connection's secret, and access lines, "Not Found" warnings and tracebacks all
# quote paths. Django's own loggers are named here so that they write through these handlers
# only: left alone, they keep the handlers of Django's default config, which do not redact.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "console.log_redaction.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # runserver's access lines, as Django formats them by default.
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Up to the root's handler. (Django's default also mails errors to ADMINS, which the
        # console does not set; set up a mail handler here, with the filter, to want that.)
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # httpx logs full URLs at INFO; our own connector log line replaces it, redacted.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}


# --- The console's own knobs -----------------------------------------------
SANDBOX_DB = env.str("SANDBOX_DB", default=str(VAR_DIR / "sandbox.sqlite3"))
# The public URL of this console, used when it registers webhooks at the vendors.
CONSOLE_PUBLIC_URL = env.str("CONSOLE_PUBLIC_URL", default="http://127.0.0.1:8000")
# A run tries this many times before it becomes a ticket; a running run whose heartbeat is
# older than RUN_STALE_SECONDS has lost its worker and is taken over.
RUN_MAX_ATTEMPTS = env.int("RUN_MAX_ATTEMPTS", default=3)
RUN_STALE_SECONDS = env.int("RUN_STALE_SECONDS", default=300)
# Alert (a "sync delayed" ticket) when a flow is this far behind, or 3 schedules, if longer.
SYNC_DELAY_ALERT_MINUTES = env.int("SYNC_DELAY_ALERT_MINUTES", default=60)
# Once this often, a scheduled run reads everything (sending only what differs) to catch
# changes no timestamp shows.
RECONCILE_HOURS = env.int("RECONCILE_HOURS", default=24)

# --- Webhooks: what one delivery may cost ----------------------------------
# A body larger than this is refused (413) before it is read further.
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=256 * 1024)
# An event naming more ids than this is refused (400) and nothing is stored; a range counts
# every id in it ("1-10000" is 10,000). It also bounds the ids one drain makes runs of.
WEBHOOK_MAX_IDS = env.int("WEBHOOK_MAX_IDS", default=10_000)
# A webhook source (a connection's address) whose events name at least WEBHOOK_UNKNOWN_LIMIT
# ids the vendor does not have within WEBHOOK_UNKNOWN_WINDOW_MINUTES, more unknown than known,
# is refused (429) for WEBHOOK_THROTTLE_MINUTES, with one ticket for operations.
WEBHOOK_UNKNOWN_LIMIT = env.int("WEBHOOK_UNKNOWN_LIMIT", default=1_000)
WEBHOOK_UNKNOWN_WINDOW_MINUTES = env.int("WEBHOOK_UNKNOWN_WINDOW_MINUTES", default=10)
WEBHOOK_THROTTLE_MINUTES = env.int("WEBHOOK_THROTTLE_MINUTES", default=30)
