"""The default beat schedule. django-celery-beat copies it into the database at start,
where operators can edit it in the admin (Periodic tasks).

Times are UTC and spread out so the daily jobs do not compete for TMDb's rate limit.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict = {
    "outbox-flush": {
        "task": "tasks.outbox.outbox_flush",
        "schedule": 60.0,  # every minute: work a write asked for while the broker was down
    },
    "trending-refresh": {
        "task": "tasks.trending.trending_refresh",
        # Every 2 minutes, below TRENDING_CACHE_TTL (300 s): requests find the lists cached
        # instead of aggregating the window's ratings themselves (seconds on a busy window).
        "schedule": 120.0,
    },
    "sync-trending-day": {
        "task": "tasks.sync.trending_sync",
        "schedule": crontab(minute=5),  # hourly
        "kwargs": {"window": "day"},
    },
    "sync-trending-week": {
        "task": "tasks.sync.trending_sync",
        "schedule": crontab(minute=35),  # hourly
        "kwargs": {"window": "week"},
    },
    "sync-changes": {
        "task": "tasks.sync.changes_sync",
        "schedule": crontab(hour=3, minute=15),  # daily
    },
    "sync-genres": {
        "task": "tasks.sync.genres_sync",
        "schedule": crontab(hour=2, minute=45, day_of_week=1),  # weekly, Mondays
    },
    "sync-popular": {
        "task": "tasks.sync.popular_sync",
        "schedule": crontab(hour=1, minute=30),  # daily; pages from TMDB_POPULAR_PAGES
    },
    "sync-stale": {
        "task": "tasks.sync.stale_refresh",
        "schedule": crontab(hour=4, minute=30),  # daily; days from TMDB_STALE_DAYS
    },
    "recs-retrain-nightly": {
        "task": "tasks.training.recs_model_train",
        "schedule": crontab(hour=5, minute=0),  # daily, after the night's TMDb syncs
    },
    "recs-retrain-if-needed": {
        "task": "tasks.training.recs_retrain_if_needed",
        "schedule": crontab(minute=50),  # hourly
    },
}
