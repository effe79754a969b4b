"""
Settings for the whole platform, driven by the environment.

Environment variables (all optional on a development machine):

- ``DEBUG``: ``1`` for development. Off by default: production is the safe default.
- ``SECRET_KEY``: required when ``DEBUG`` is off; the platform refuses to start without it.
- ``ALLOWED_HOSTS``: comma-separated host names (default ``127.0.0.1,localhost`` with ``DEBUG``).
- ``DATABASE_URL``: e.g. ``postgres://user@host:5432/name``; default an SQLite file under ``var/``.
- ``REDIS_URL``: e.g. ``redis://127.0.0.1:6379/0``; when set, django-q2 and the cache use Redis,
  otherwise django-q2 uses its ORM broker and the cache is per process.
- ``SIGNING_KEY_SECRET``: the secret from which the key that encrypts the platform's private
  signing keys at rest is derived; defaults to ``SECRET_KEY``.
- ``PLATFORM_URL``: the public base URL, used as the issuer of signed statements.
- ``WEBAUTHN_RP_ID``, ``WEBAUTHN_ORIGINS``: the passkeys' relying party id (the site's domain)
  and the comma-separated origins the browser may report (default: from ``PLATFORM_URL``).
- ``AUDIT_CHECKPOINT_STATE``: the file where the checkpoint signer keeps the last checkpoint it
  signed, outside the database (default: one file per database under ``var/audit-checkpoint/``).
- ``AUDIT_SEQUENCER``: ``1`` to seal the audit log in ``manage.py audit_sequencer`` only (writers
  then only insert pending entries).
- ``AUDIT_PENDING_MAX_SECONDS``: how long a committed entry may wait to be sealed before
  ``audit_verify`` fails (default 300).
- ``AUDIT_VERIFY_WORKERS``: how many processes ``audit_verify`` walks a long log with on
  PostgreSQL (default: one per core; ``1``: one process).
- ``AUDIT_VERIFY_ACCELERATED``: ``0`` to walk the log in Python even where the C accelerator
  (``audit._walk``) is built (default on; without it the walk is in Python anyway).
- ``DATABASE_OWNER_URL``: on PostgreSQL, the role that owns the schema and runs the migrations;
  ``DATABASE_URL``'s role then owns nothing (``scripts/db_roles.py`` makes both).
- ``AUDIT_SEALER_ROLE``: the role that owns the audit log's sealing function.
- ``CONN_MAX_AGE``: seconds a database connection is kept between requests (default 60).
- ``TRUSTED_PROXIES``: comma-separated addresses or networks of the reverse proxies in front of
  the platform; only their ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed.
- ``DB_PREPARED_STATEMENTS``: ``0`` behind a PostgreSQL pooler that cannot keep prepared
  statements (PgBouncer before 1.21 in transaction mode); default on.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_flag(name: str, default: bool = False) -> bool:
    """Return the boolean value of an environment variable such as ``1``/``true``/``yes``."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment, or set DEBUG=1 for development."
        )
    SECRET_KEY = "development-only-secret-key-never-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The reverse proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are
# believed; from anyone else those headers are dropped (config.clients).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
PLATFORM_URL = os.environ.get("PLATFORM_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "config.admin.PlatformAdminConfig",  # Django's admin, answering 404 for others' objects
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "django_q",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "audit",
    "governance",
    "consent",
    "review",
    "grants",
    "participation",
    "public",
]

MIDDLEWARE = [
    # First: whatever reads the client's address or scheme must see the resolved ones.
    "config.clients.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.RequestBodyLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the language is chosen (for the 400 page), before anything reads the request.
    "config.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The second factor: whether this session proved one (django-otp), and the staff pages
    # refused until it has, for those who must use one.
    "django_otp.middleware.OTPMiddleware",
    "governance.second_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns lock-outs raised by authentication into responses.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# The API's hottest query (introspection) is prepared on PostgreSQL; 0 behind a pooler that
# cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
DB_PREPARED_STATEMENTS = env_flag("DB_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_PREPARED_STATEMENTS:
    # Django turns psycopg's prepared statements off (threshold None), which refuses even an
    # explicit prepare=True. A threshold never reached prepares only what asks to be.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**31 - 1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes SQLite's write lock when a transaction starts, so two writers
        # (the web server and the task cluster) queue instead of failing half-way with
        # "database is locked"; it also serialises the audit chain's sealing.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"].setdefault("TEST", {})
# PostgreSQL with separate roles (README, "Production"; audit.roles): the schema's owner runs
# the migrations, the platform runs as DATABASE_URL's role, which owns nothing, and the audit
# log is sealed by a function of the sealer role's own.
DATABASE_OWNER = None
DATABASE_RUNTIME_ROLE = ""
DATABASE_RUNTIME_CREDENTIALS: dict = {}
if os.environ.get("DATABASE_OWNER_URL") and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASE_OWNER = dj_database_url.parse(os.environ["DATABASE_OWNER_URL"])
    DATABASE_RUNTIME_ROLE = DATABASES["default"]["USER"]
    DATABASE_RUNTIME_CREDENTIALS = {
        "USER": DATABASES["default"]["USER"],
        "PASSWORD": DATABASES["default"].get("PASSWORD", ""),
    }
AUDIT_SEALER_ROLE = os.environ.get("AUDIT_SEALER_ROLE", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # consent_state_unique covers its columns on PostgreSQL; SQLite has no covering indexes.
    SILENCED_SYSTEM_CHECKS = ["models.W039"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and tasks ------------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "smartcity"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

Q_CLUSTER = {
    "name": os.environ.get("Q_CLUSTER_NAME", "smartcity"),
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": int(os.environ.get("Q_TIMEOUT", "600")),
    # A task is given back to the queue when a worker dies before acknowledging it;
    # retry must exceed timeout (django-q2 documentation).
    "retry": int(os.environ.get("Q_RETRY", "660")),
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "label": "Django Q",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if env_flag("Q_SYNC"):
    Q_CLUSTER["sync"] = True

# --- Authentication -------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # Counts failed logins and locks out an address/user pair after AXES_FAILURE_LIMIT tries.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours: a locked-out pair may try again after 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failures from one address across user names before the address is locked out too, so that
# one password tried against many accounts is stopped (config.lockout). Several times the
# per-account limit: a shared office or school address makes honest mistakes too.
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "20"))
AXES_HANDLER = "config.lockout.AddressLockoutHandler"
# The client's address as config.clients resolved it from the trusted proxies only.
AXES_CLIENT_IP_CALLABLE = "config.clients.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_ENABLED = env_flag("AXES_ENABLED", True)

# A second factor (an authenticator app's code, or a recovery code) on the staff pages (the admin
# and the review pages): always for the platform's administrators (superusers), and for the
# people of a consortium whose secretariat requires it. Off only for a development machine.
STAFF_SECOND_FACTOR = env_flag("STAFF_SECOND_FACTOR", True)
OTP_TOTP_ISSUER = "Smart-city data platform"
# A code is accepted once; a step either side of the server's clock is tolerated (RFC 6238 §5.2).
OTP_TOTP_TOLERANCE = 1
# Passkeys (WebAuthn, through django-otp-webauthn): the relying party's id is the site's domain,
# to which every passkey is bound (changing it later leaves every passkey unusable); the origins
# are those the browser may report (scheme, host and port). An IP address cannot be an RP ID, so
# a development machine serving on 127.0.0.1 uses passkeys at http://localhost:8000.
_platform = urlsplit(PLATFORM_URL)
_platform_host = _platform.hostname or "localhost"
if _platform_host.replace(".", "").isdigit() or ":" in _platform_host:
    _platform_host = "localhost"
_platform_origin = f"{_platform.scheme}://{_platform_host}" + (
    f":{_platform.port}" if _platform.port else ""
)
OTP_WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", _platform_host)
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list("WEBAUTHN_ORIGINS", _platform_origin)
# Residents may sign in with a passkey alone (it proves possession and, with user verification,
# the person); such a passkey must be discoverable (kept on the device with its account).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = True
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = ""  # refusals answer 4xx; nothing to log

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous visitors have no rights

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password reset requests in the portal, per hour: per email address (beyond it no more mail is
# sent, with the same answer) and per client address (beyond it the form answers 429).
PASSWORD_RESET_WINDOW = 3600
PASSWORD_RESET_LIMIT_PER_EMAIL = int(os.environ.get("PASSWORD_RESET_LIMIT_PER_EMAIL", "3"))
PASSWORD_RESET_LIMIT_PER_CLIENT = int(os.environ.get("PASSWORD_RESET_LIMIT_PER_CLIENT", "10"))
LOGIN_URL = "admin:login"
# Where a sign-in goes when its next= is refused (another host, another scheme) or absent.
LOGIN_REDIRECT_URL = "landing"

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "ja"
# やさしい日本語 (Easy Japanese, as municipalities publish it for older residents and residents
# from abroad): short sentences, common words, furigana on hard kanji. Its catalogues live in
# ja_Easy/ (Django's to_locale("ja-easy")); a string without an Easy version falls back to
# ordinary Japanese (gettext's ja_Easy -> ja), and so do dates and numbers (formats of "ja").
# Django knows no such language, so its name is declared in LANG_INFO below.
EASY_JAPANESE = "ja-easy"
LANGUAGES = [("ja", _("Japanese")), (EASY_JAPANESE, _("Easy Japanese")), ("en", _("English"))]
LANG_INFO[EASY_JAPANESE] = {
    "bidi": False,
    "code": EASY_JAPANESE,
    "name": "Easy Japanese",
    "name_local": "やさしい にほんご",
}
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (ethics-review attachments) live outside the web root and are served only
# through views that check permission.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "private"))
# Required by Django's static-file handlers (and its live test server) to differ from STATIC_URL;
# no URL pattern serves it: files under MEDIA_ROOT go out only through permission-checked views.
MEDIA_URL = "/private-files/"

# Any request body above this is refused with 413 before it is read.
MAX_REQUEST_BODY = int(os.environ.get("MAX_REQUEST_BODY", str(12 * 1024 * 1024)))
MAX_UPLOAD_SIZE = int(os.environ.get("MAX_UPLOAD_SIZE", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- The data-ethics review ----------------------------------------------------------------

# Days before an obligation's due date when the requester is reminded (once per due date).
REVIEW_OBLIGATION_REMINDER_DAYS = int(os.environ.get("REVIEW_OBLIGATION_REMINDER_DAYS", "14"))
# Days before an approval's term ends when its requester is reminded to renew it (once each).
REVIEW_RENEWAL_REMINDER_DAYS = [
    int(days) for days in os.environ.get("REVIEW_RENEWAL_REMINDER_DAYS", "60,30").split(",") if days
]
# Whether the requester's decision notice (a PDF report) is made when the board decides.
REVIEW_REQUESTER_LETTER_ON_DECISION = (
    os.environ.get("REVIEW_REQUESTER_LETTER_ON_DECISION", "1") == "1"
)

# --- Security -------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Believed only from the proxies in TRUSTED_PROXIES: config.clients drops it from others.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Pages ship no inline script or style: every page satisfies this policy as it is.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- REST API -------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Smart-city consent platform API",
    "DESCRIPTION": "Grant verification, consent checks, revocations and the public audit log.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"PiaLevelEnum": "review.models.PIA_LEVELS"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # The tickets API's requirements that depend on other fields, which a serializer
        # field cannot state.
        "grants.api.ticket_input_conditions",
    ],
}

# --- Audit log ------------------------------------------------------------------------------

SIGNING_KEY_SECRET = os.environ.get("SIGNING_KEY_SECRET", SECRET_KEY)
# The secret from which residents' pairwise subject identifiers are derived (consent.pairwise):
# changing it changes every id that services know residents by.
PAIRWISE_SUBJECT_SECRET = os.environ.get("PAIRWISE_SUBJECT_SECRET", SIGNING_KEY_SECRET)
# The origin line of signed checkpoints (C2SP tlog-checkpoint): names this log.
AUDIT_LOG_ORIGIN = os.environ.get(
    "AUDIT_LOG_ORIGIN", PLATFORM_URL.split("://", 1)[-1] + "/audit-log"
)
AUDIT_CHECKPOINT_MINUTES = int(os.environ.get("AUDIT_CHECKPOINT_MINUTES", "10"))
# Seal apart from the writers: record() only inserts pending entries and the sequencer
# (manage.py audit_sequencer) seals them, woken by each commit on PostgreSQL.
AUDIT_SEQUENCER = env_flag("AUDIT_SEQUENCER")
# How long an entry may wait, committed and pending, before audit_verify says sealing stopped.
AUDIT_PENDING_MAX_SECONDS = int(os.environ.get("AUDIT_PENDING_MAX_SECONDS", "300"))
# How many processes audit_verify walks a long log with on PostgreSQL (default: one per core).
AUDIT_VERIFY_WORKERS = max(int(os.environ.get("AUDIT_VERIFY_WORKERS") or os.cpu_count() or 1), 1)
# Walk with the C accelerator where it is built (audit/_walk.c); off: the Python walk only.
AUDIT_VERIFY_ACCELERATED = env_flag("AUDIT_VERIFY_ACCELERATED", default=True)
# The last checkpoint the signer signed, kept outside the database (a file the database role
# cannot write; in production on storage of its own). By default one file per database under
# VAR_DIR, so that switching a checkout between SQLite and PostgreSQL keeps both.
_database = DATABASES["default"]
AUDIT_CHECKPOINT_STATE = os.environ.get("AUDIT_CHECKPOINT_STATE") or str(
    VAR_DIR
    / "audit-checkpoint"
    / f"{_database['ENGINE'].rsplit('.', 1)[-1]}-{Path(str(_database['NAME'])).name}.txt"
)

# Witnessing (C2SP tlog-witness, docs/transparency-log.md "Witnesses").
# The witnesses this platform submits each new checkpoint to: one per line (or ";"), each
# "<witness verifier key> <submission prefix URL>", the key as name+keyID+base64(0x04||key).
AUDIT_WITNESSES = [
    item.split()
    for item in os.environ.get("AUDIT_WITNESSES", "").replace(";", "\n").splitlines()
    if item.strip()
]
# How many of them must cosign a checkpoint for it to count as witnessed (default: all).
AUDIT_WITNESS_QUORUM = int(os.environ.get("AUDIT_WITNESS_QUORUM") or len(AUDIT_WITNESSES))
AUDIT_WITNESS_TIMEOUT = float(os.environ.get("AUDIT_WITNESS_TIMEOUT", "10"))
# This platform as a witness of other logs: its name (the key name of its cosignatures) and
# its own Ed25519 key, kept encrypted (SIGNING_KEY_SECRET) in a file outside the database,
# made on first use. Its verifier key: manage.py audit_witness_key.
AUDIT_WITNESS_NAME = os.environ.get(
    "AUDIT_WITNESS_NAME", PLATFORM_URL.split("://", 1)[-1] + "/witness"
)
AUDIT_WITNESS_KEY_FILE = os.environ.get("AUDIT_WITNESS_KEY_FILE") or str(
    VAR_DIR
    / "audit-witness"
    / f"{_database['ENGINE'].rsplit('.', 1)[-1]}-{Path(str(_database['NAME'])).name}.key"
)

# --- Participation --------------------------------------------------------------------------

# Days an e-mail participant's address is kept once no longer needed (APPI Art. 22): after the
# result of every consultation they commented on was published (the answers mailed), or after
# their unconfirmed link expired; then the daily schedule erases it.
PARTICIPATION_EMAIL_RETENTION_DAYS = int(os.environ.get("PARTICIPATION_EMAIL_RETENTION_DAYS", "30"))

# --- Grants ---------------------------------------------------------------------------------

# How often grants whose expiry has passed are stored as expired (and pushed to webhooks).
GRANTS_EXPIRE_MINUTES = int(os.environ.get("GRANTS_EXPIRE_MINUTES", "5"))
# How often the notices of withdrawals, and the pushes of notices and grant events, whose tasks
# were lost (the broker down when they were queued) are made again; what counts: older than the
# grace (the task may still be on its way), younger than the days.
GRANTS_SWEEP_MINUTES = int(os.environ.get("GRANTS_SWEEP_MINUTES", "1"))
GRANTS_SWEEP_GRACE_SECONDS = int(os.environ.get("GRANTS_SWEEP_GRACE_SECONDS", "120"))
GRANTS_SWEEP_DAYS = int(os.environ.get("GRANTS_SWEEP_DAYS", "2"))
# A fan-out of withdrawal notices (a purpose closed, a grant ended): residents per chunk (one
# transaction, one audit entry, one push task per service), and the pushes in flight at once
# to one service's events URL, over connections kept open.
GRANTS_FAN_OUT_CHUNK = int(os.environ.get("GRANTS_FAN_OUT_CHUNK", "1000"))
GRANTS_PUSH_CONCURRENCY = int(os.environ.get("GRANTS_PUSH_CONCURRENCY", "8"))

# --- Mail and logging -----------------------------------------------------------------------

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "no-reply@smartcity.example.jp")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- OpenID Provider for member services (django-oauth-toolkit) -------------------------------

# Authorization code flow with PKCE only; ID tokens are signed RS256 by the platform's own key
# (audit's SigningKey, rotated as the others), so OIDC_RSA_PRIVATE_KEY is not used; ``sub`` is
# pairwise per sector identifier (grants.oidc).
# Whether a service without an OpenID client may still name residents by their platform-wide
# pseudonymous ids at the consent check (integrations that predate the OpenID Provider); a
# service with an OpenID client names them by its pairwise ids only.
GRANTS_ACCEPT_PSEUDONYMOUS_IDS = env_flag("GRANTS_ACCEPT_PSEUDONYMOUS_IDS", default=True)
# The toolkit's own application model (swappable, so named here for the migrations).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    # The issuer is the platform itself (discovery at /.well-known/openid-configuration).
    "OIDC_ISS_ENDPOINT": PLATFORM_URL,
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "grants.oidc.PlatformValidator",
    "SCOPES_BACKEND_CLASS": "grants.oidc.PurposeScopes",
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("OIDC_ACCESS_TOKEN_SECONDS", "300")),
    "ID_TOKEN_EXPIRE_SECONDS": 300,
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(os.environ.get("OIDC_REFRESH_TOKEN_DAYS", "30")) * 86400,
    "ROTATE_REFRESH_TOKEN": True,
    # A refresh token used twice revokes the whole family (RFC 9700 §4.14.2).
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REQUEST_APPROVAL_PROMPT": "auto",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if DEBUG else ["https"],
    "ALLOWED_SCHEMES": ["https", "http"] if DEBUG else ["https"],
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post"],
    # RFC 9700 (OAuth 2.0 Security BCP) enforced rather than warned about: no implicit or
    # password grant, S256 only, no token in a query string, iss in authorization responses,
    # tokens stored as hashes.
    **{
        f"COMPLIANT_BCP_RFC9700_{gate}": True
        for gate in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        )
    },  # fmt: skip
}
