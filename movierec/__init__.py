"""movierec project package: settings, URLs, the Celery app and the root GraphQL schema.

The Celery app lives in :mod:`movierec.celery` (``celery -A movierec`` finds it there). It is not
imported here, so importing this package (``python -m movierec.embedded``, settings) has no side
effects such as choosing a settings module for child processes.
"""
