"""Test settings: the same real PostgreSQL and Redis as production, isolated by name.

``MOVIEREC_TEST_SUFFIX`` lets several checkouts run their suites at once against one server.
"""

import os

from movierec.embedded import ensure_env

ensure_env()

from .base import *  # noqa: E402, F403
from .base import CACHES, DATABASES, env  # noqa: E402

_suffix = os.environ.get("MOVIEREC_TEST_SUFFIX", "")
DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
SIMPLE_JWT["SIGNING_KEY"] = SECRET_KEY  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["TEST"] = {"NAME": f"test_movierec{_suffix}"}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
CACHES["default"]["KEY_PREFIX"] = f"test{_suffix}"
# Subprocess workers started by the redelivery test turn this off through the environment.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
RATELIMIT_ENABLED = env.bool("RATELIMIT_ENABLED", default=True)
# Generous, so the suite never trips them; throttling tests override one rate at a time.
RATELIMIT_RATES = {name: "100000/1m" for name in RATELIMIT_RATES}  # noqa: F405
LOGIN_BACKOFF = {**LOGIN_BACKOFF, "client_free": 100000, "account_free": 100000}  # noqa: F405
# Under this checkout (git-ignored), so two checkouts' suites never share or delete artifacts.
RECS_MODEL_DIR = (  # noqa: F405
    Path(os.environ.get("RECS_MODEL_DIR", BASE_DIR / ".data")) / f"test-models{_suffix}"  # noqa: F405
)
RECS_MODEL_CACHE_DIR = Path(  # noqa: F405
    os.environ.get("RECS_MODEL_CACHE_DIR", RECS_MODEL_DIR.with_name(RECS_MODEL_DIR.name + "-cache"))
)
# Processes the S3 tests start (RECS_ARTIFACT_STORAGE=s3) keep the object store they were given.
if RECS_ARTIFACT_STORAGE == "filesystem":  # noqa: F405
    STORAGES["models"] = {  # noqa: F405
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(RECS_MODEL_DIR)},
    }
# Every request re-checks the active model version, so no test sees a model of an earlier one.
RECS_VERSION_CHECK_SECONDS = env.float("RECS_VERSION_CHECK_SECONDS", default=0.0)
# Tests write rows in bulk (no signals) and read them back anonymously at once; the response
# cache's own tests turn it on.
GRAPHQL_RESPONSE_CACHE_TTL = env.int("GRAPHQL_RESPONSE_CACHE_TTL", default=0)
LOGGING["root"]["level"] = env("LOG_LEVEL", default="WARNING")  # noqa: F405
# A busy CI machine can stall Redis past production's 0.25 s; in-process tests keep the
# breaker out of their way. The hardening suite's live server sets the production value.
CACHES["default"]["OPTIONS"]["SOCKET_TIMEOUT"] = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)
CACHES["default"]["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"] = env.float(
    "REDIS_SOCKET_TIMEOUT", default=2.0
)
# Tiny test models train fastest on one thread (several contend on a busy 2-core machine).
RECS_NUM_THREADS = 1
