"""Settings of the product as the serving benchmark runs it: base settings, DEBUG off.

Production minus HTTPS redirects (the load generator speaks plain HTTP on loopback), with the
per-viewer GraphQL limit raised so the load generator's one viewer is not throttled (the limit
is still checked on every request: its cost is part of what is measured), and quiet logging.
"""

import warnings

from movierec.settings.base import *  # noqa: F403
from movierec.settings.base import LOGGING, RATELIMIT_RATES, SIMPLE_JWT, env

SECRET_KEY = env("SECRET_KEY", default="bench-secret-key-not-for-production-0123456789abcdef")
SIMPLE_JWT["SIGNING_KEY"] = SECRET_KEY
DEBUG = False
RATELIMIT_RATES = {**RATELIMIT_RATES, "graphql": "100000000/1m"}
LOGGING["root"]["level"] = "WARNING"
LOGGING["loggers"]["django"]["level"] = "WARNING"
# No collectstatic in the benchmark: WhiteNoise still runs, it just has nothing to serve.
warnings.filterwarnings("ignore", message="No directory at")
